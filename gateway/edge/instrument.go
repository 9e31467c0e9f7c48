package edge

import (
	"strconv"
	"sync"
	"time"

	"github.com/go-kit/kit/metrics"
	"github.com/valyala/fasthttp"
)

// Instrumented counts the requests of one route by the status code answered (labels route, code)
// and observes how long each took to answer, in seconds (label route): the gateway's view of a
// route, whatever happened behind it (a 429 of the rate limit and a 415 are counted too).
func Instrumented(route string, requests metrics.Counter, duration metrics.Histogram, next fasthttp.RequestHandler) fasthttp.RequestHandler {
	duration = duration.With("route", route)
	var byCode sync.Map // status code → requests.With(route, code): made once per code, not per request
	return func(ctx *fasthttp.RequestCtx) {
		begin := time.Now()
		next(ctx)
		duration.Observe(time.Since(begin).Seconds())
		code := ctx.Response.StatusCode()
		counter, ok := byCode.Load(code)
		if !ok {
			counter, _ = byCode.LoadOrStore(code, requests.With("route", route, "code", strconv.Itoa(code)))
		}
		counter.(metrics.Counter).Add(1)
	}
}
