package edge

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/ratelimit"
	"github.com/valyala/fasthttp"

	"github.com/example/gokit-nomad/gateway/proxy"
	"github.com/example/gokit-nomad/stringsvc/contract"
	"github.com/example/gokit-nomad/stringsvc/platform/requestid"
)

// EndpointHandler serves one route: the request body goes to ep as a contract.Passthrough (as it
// came: the instances validate it), and ep's contract.Passthrough answer is written as a 200 JSON
// body. An instance's 4xx is passed through unchanged; the gateway's own failures are answered in
// the contract's JSON shape and logged. The request's ID (the client's X-Request-ID, or a new one:
// package requestid) goes to ep in its context, on to the instance, into the gateway's log lines
// and back in the answer. The gateway's own failures (5xx) go to failures, by route.
//
// ep runs under context.Background(): fasthttp does not tell a handler that its client went away,
// so a request whose client disconnects runs on within its budget (proxy.RetryPolicy.Budget).
func EndpointHandler(route string, ep endpoint.Endpoint, failures *FailureLog) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		// The instances check it too, but a body of another type is not worth forwarding.
		if err := contract.CheckContentType(string(ctx.Request.Header.ContentType())); err != nil {
			writeError(ctx, http.StatusUnsupportedMediaType, err)
			return
		}
		body := ctx.PostBody()
		if len(body) > contract.MaxBodyBytes {
			writeError(ctx, contract.ErrBodyTooLarge.Status, contract.ErrBodyTooLarge)
			return
		}
		id := requestid.Accept(string(ctx.Request.Header.Peek(requestid.Header)))
		ctx.Response.Header.Set(requestid.Header, id)
		// The body buffer belongs to ctx and is reused after the handler returns, while an
		// attempt that lost to a hedge, or outlived the budget by a moment, may still be
		// sending it: ep gets a copy of its own.
		body = append([]byte(nil), body...)
		response, err := ep(requestid.NewContext(context.Background(), id), contract.Passthrough{Body: body})
		answer, ok := response.(contract.Passthrough)
		if err == nil && !ok {
			err = errors.New("endpoint answered something other than contract.Passthrough")
		}
		if err != nil {
			if code := encodeError(ctx, err); code >= 500 {
				failures.Failed(route, code, id, err)
			}
			return
		}
		ctx.SetStatusCode(http.StatusOK)
		ctx.SetContentType(contract.JSONContentType)
		ctx.Response.SetBodyRaw(answer.Body) // a fresh copy of the instance's answer: nothing else holds it
	}
}

// encodeError writes err, and returns the status: an instance's 4xx as the instance sent it,
// anything else as the status the gateway answers (see status) with an ErrorBody.
func encodeError(ctx *fasthttp.RequestCtx, err error) int {
	var instanceErr *contract.StatusError
	if errors.As(err, &instanceErr) && instanceErr.IsClientError() {
		ctx.SetStatusCode(instanceErr.Status)
		ctx.SetContentType(contract.JSONContentType)
		ctx.SetBody(instanceErr.Body)
		return instanceErr.Status
	}
	code := status(err)
	if code == http.StatusTooManyRequests || proxy.FailureKind(err) == proxy.Shed {
		// The rate limit is at least 1 request/s; a shed request may come back as soon as the
		// spike that filled the queue has passed.
		ctx.Response.Header.Set("Retry-After", "1")
	}
	writeError(ctx, code, err)
	return code
}

// status maps an error of the request path to the status the gateway answers: the rate limit's
// 429, or the status of the route's failure (proxy.FailureKind).
func status(err error) int {
	if errors.Is(err, ratelimit.ErrLimited) {
		return http.StatusTooManyRequests
	}
	switch proxy.FailureKind(err) {
	case proxy.NoInstances, proxy.BreakersOpen, proxy.Shed:
		return http.StatusServiceUnavailable
	case proxy.BudgetExhausted:
		return http.StatusGatewayTimeout
	case proxy.AttemptsFailed:
		return http.StatusBadGateway
	default:
		return http.StatusInternalServerError
	}
}

// writeError answers with code and err's message as the contract's ErrorBody.
func writeError(ctx *fasthttp.RequestCtx, code int, err error) {
	body, _ := json.Marshal(contract.ErrorBody{Err: err.Error()}) // a struct of one string always marshals
	ctx.SetStatusCode(code)
	ctx.SetContentType(contract.JSONContentType)
	ctx.SetBody(body)
}
