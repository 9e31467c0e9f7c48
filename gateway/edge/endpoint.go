package edge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/ratelimit"
	"github.com/valyala/fasthttp"

	"github.com/example/gokit-nomad/gateway/proxy"
	"github.com/example/gokit-nomad/gateway/upstream"
	"github.com/example/gokit-nomad/stringsvc/platform/requestid"
)

// JSONContentType is the Content-Type of the gateway's own JSON answers.
const JSONContentType = "application/json; charset=utf-8"

// EndpointHandler serves one route: the request goes to ep as an upstream.Request (its body as
// it came: the instances validate it; its Content-Type and query string), and ep's
// upstream.Response is written back with its status, Content-Type and body. An instance's 4xx
// is passed through unchanged; the gateway's own failures are answered as JSON {"err": "..."}
// and go to failures, by route. A body over bodyLimit is answered 413 and not forwarded. The
// request's ID (the client's X-Request-ID, or a new one: package requestid) goes to ep in its
// context, on to the instance, into the gateway's log lines and back in the answer.
//
// ep runs under context.Background(): fasthttp does not tell a handler that its client went away,
// so a request whose client disconnects runs on within its budget (proxy.RetryPolicy.Budget).
func EndpointHandler(route string, bodyLimit int64, ep endpoint.Endpoint, failures *FailureLog) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		body := ctx.PostBody()
		if int64(len(body)) > bodyLimit {
			writeError(ctx, http.StatusRequestEntityTooLarge, bodyTooLarge(bodyLimit))
			return
		}
		id := requestid.Accept(string(ctx.Request.Header.Peek(requestid.Header)))
		ctx.Response.Header.Set(requestid.Header, id)
		// The body buffer belongs to ctx and is reused after the handler returns, while an
		// attempt that lost to a hedge, or outlived the budget by a moment, may still be
		// sending it: ep takes the buffer itself (ctx gets none back: its next request takes a
		// new one), which is a copy fewer than copying it.
		request := upstream.Request{
			Body:        ctx.Request.SwapBody(nil),
			ContentType: upstream.ContentTypeOf(ctx.Request.Header.ContentType()),
			Query:       string(ctx.URI().QueryString()),
		}
		response, err := ep(requestid.NewContext(context.Background(), id), request)
		answer, ok := response.(upstream.Response)
		if err == nil && !ok {
			err = errors.New("endpoint answered something other than upstream.Response")
		}
		if err != nil {
			if code := encodeError(ctx, err); code >= 500 {
				failures.Failed(route, code, id, err)
			}
			return
		}
		ctx.SetStatusCode(answer.Status)
		if answer.ContentType != "" {
			ctx.SetContentType(answer.ContentType)
		}
		ctx.Response.SetBodyRaw(answer.Body) // a fresh copy of the instance's answer: nothing else holds it
	}
}

// bodyTooLarge is the error of a body over limit bytes.
func bodyTooLarge(limit int64) error {
	return fmt.Errorf("request body is larger than %d bytes", limit)
}

// encodeError writes err, and returns the status: an instance's 4xx as the instance sent it,
// anything else as the status the gateway answers (see status) with an ErrorBody.
func encodeError(ctx *fasthttp.RequestCtx, err error) int {
	var instanceErr *upstream.StatusError
	if errors.As(err, &instanceErr) && proxy.FailureKind(err) == proxy.None { // an instance's 4xx: the answer
		ctx.SetStatusCode(instanceErr.Status)
		if instanceErr.ContentType != "" {
			ctx.SetContentType(instanceErr.ContentType)
		}
		ctx.SetBody(instanceErr.Body)
		return instanceErr.Status
	}
	code := status(err)
	if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
		// The rate limit is at least 1 request/s; a shed request may come back as soon as the
		// spike that filled the queue has passed; an unavailable service may be back soon.
		ctx.Response.Header.Set("Retry-After", "1")
	}
	writeError(ctx, code, err)
	return code
}

// status maps an error of the request path to the status the gateway answers: the rate limit's
// 429, or the status of the route's failure (proxy.FailureKind). 503 says that the request was
// not processed (no instance took it); 502 and 504 that an instance may have processed it.
func status(err error) int {
	if errors.Is(err, ratelimit.ErrLimited) {
		return http.StatusTooManyRequests
	}
	switch proxy.FailureKind(err) {
	case proxy.NoInstances, proxy.BreakersOpen, proxy.Shed, proxy.Unreachable:
		return http.StatusServiceUnavailable
	case proxy.BudgetExhausted:
		return http.StatusGatewayTimeout
	case proxy.AttemptsFailed:
		return http.StatusBadGateway
	default:
		return http.StatusInternalServerError
	}
}

// errorBody is the body of the gateway's own error answers.
type errorBody struct {
	Err string `json:"err"`
}

// writeError answers with code and err's message as JSON {"err": "..."}.
func writeError(ctx *fasthttp.RequestCtx, code int, err error) {
	body, _ := json.Marshal(errorBody{Err: err.Error()}) // a struct of one string always marshals
	ctx.SetStatusCode(code)
	ctx.SetContentType(JSONContentType)
	ctx.SetBody(body)
}
