// Package transport exposes stringsvc's endpoints over HTTP (server side) and builds client
// endpoints for one instance (client side), both on the wire contract of package contract.
package transport

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-kit/kit/transport"
	httptransport "github.com/go-kit/kit/transport/http"
	kitlog "github.com/go-kit/log"

	"github.com/example/gokit-nomad/stringsvc/contract"
	"github.com/example/gokit-nomad/stringsvc/endpoints"
	"github.com/example/gokit-nomad/stringsvc/platform/requestid"
	"github.com/example/gokit-nomad/stringsvc/service"
)

// NewHTTPHandler serves the Set's endpoints at the paths of the contract's route table
// (contract.Operations); extra routes (health, metrics) are served beside them. Unknown paths and
// methods get JSON 404/405 answers. Every request gets an ID (withRequestID).
func NewHTTPHandler(set endpoints.Set, logger kitlog.Logger, extra ...contract.Binding) http.Handler {
	opts := []httptransport.ServerOption{
		httptransport.ServerErrorEncoder(encodeError),
		httptransport.ServerErrorHandler(transport.NewLogErrorHandler(logger)),
	}
	encode := contract.EncodeResponse(encodeError)
	handlers := map[string]http.Handler{
		"uppercase": httptransport.NewServer(set.UppercaseEndpoint, contract.DecodeUppercaseRequest, encode, opts...),
		"count":     httptransport.NewServer(set.CountEndpoint, contract.DecodeCountRequest, encode, opts...),
	}
	routes := make([]contract.Binding, 0, len(contract.Operations)+len(extra))
	for _, op := range contract.Operations {
		h, ok := handlers[op.Name]
		if !ok {
			panic("transport: no handler for the contract's operation " + op.Name) // caught by the tests
		}
		routes = append(routes, contract.Binding{Method: op.Method, Path: op.Path, Handler: h})
	}
	return withRequestID(contract.NewRouter(append(routes, extra...)...))
}

// withRequestID gives every request an ID — the caller's X-Request-ID when it is sane (a gateway
// passes its own on), else a new one — in its context, for the logs, and in the answer's header.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := requestid.Accept(r.Header.Get(requestid.Header))
		w.Header().Set(requestid.Header, id)
		next.ServeHTTP(w, r.WithContext(requestid.NewContext(r.Context(), id)))
	})
}

// encodeError maps domain and request errors to 4xx and everything unknown to 500.
func encodeError(_ context.Context, err error, w http.ResponseWriter) {
	status := http.StatusInternalServerError
	var requestErr *contract.RequestError
	switch {
	case errors.Is(err, service.ErrEmpty):
		status = http.StatusBadRequest
	case errors.As(err, &requestErr):
		status = requestErr.Status
	}
	contract.WriteError(w, status, err)
}
