package proxy

import (
	"context"
	"errors"
	"net/http"

	httptransport "github.com/go-kit/kit/transport/http"
	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/stringsvc/contract"
)

// statusClientClosedRequest is logged when the caller went away before the answer (nginx's 499).
const statusClientClosedRequest = 499

// NewServer returns the go-kit HTTP server of one route. It passes bytes: the request body goes
// to an instance as it came (at most contract.MaxBodyBytes, else 413) and the instance's answer
// comes back as it was sent, so the gateway never decodes or re-encodes JSON; the instances
// validate it, and their 4xx is passed through. The route's endpoints must be built with
// transport.NewPassthroughClient.
func NewServer(route *Route, logger hclog.Logger) http.Handler {
	encodeError := errorEncoder(logger.Named(route.Name))
	return httptransport.NewServer(route.Endpoint, contract.DecodePassthroughRequest,
		contract.EncodePassthroughResponse, httptransport.ServerErrorEncoder(encodeError))
}

// errorEncoder writes the gateway's errors in the contract's JSON shape and passes an instance's
// 4xx through unchanged. Failures the gateway produces (5xx) are logged.
func errorEncoder(logger hclog.Logger) httptransport.ErrorEncoder {
	return func(ctx context.Context, err error, w http.ResponseWriter) {
		var instanceErr *contract.StatusError
		if errors.As(err, &instanceErr) && instanceErr.IsClientError() {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(instanceErr.Status)
			_, _ = w.Write(instanceErr.Body)
			return
		}
		status := gatewayStatus(err)
		if status >= 500 {
			logger.Warn("request failed", "status", status, "err", err)
		}
		contract.WriteError(w, status, err)
	}
}

// gatewayStatus maps an error of the request path to the status the gateway answers.
func gatewayStatus(err error) int {
	var attemptsErr *AttemptsError
	var requestErr *contract.RequestError
	switch {
	case errors.As(err, &requestErr):
		return requestErr.Status
	case errors.Is(err, ErrNoInstances), errors.Is(err, ErrAllBreakersOpen):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrBudgetExhausted):
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled):
		return statusClientClosedRequest
	case errors.As(err, &attemptsErr):
		return http.StatusBadGateway
	default:
		return http.StatusInternalServerError
	}
}
