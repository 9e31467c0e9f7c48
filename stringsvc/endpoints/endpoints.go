// Package endpoints turns stringsvc's Service into go-kit endpoints and back: Set built with New
// serves a Service, and a Set built from client endpoints (package transport) is itself a Service.
package endpoints

import (
	"context"
	"fmt"

	"github.com/go-kit/kit/endpoint"

	"github.com/example/gokit-nomad/stringsvc/contract"
	"github.com/example/gokit-nomad/stringsvc/service"
)

// Set holds one endpoint per Service method.
type Set struct {
	UppercaseEndpoint endpoint.Endpoint
	CountEndpoint     endpoint.Endpoint
}

// New returns the server-side endpoints of svc.
func New(svc service.Service) Set {
	return Set{
		UppercaseEndpoint: MakeUppercaseEndpoint(svc),
		CountEndpoint:     MakeCountEndpoint(svc),
	}
}

// MakeUppercaseEndpoint adapts svc.Uppercase; a domain error travels in the response.
func MakeUppercaseEndpoint(svc service.Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(contract.UppercaseRequest)
		v, err := svc.Uppercase(ctx, req.S)
		return contract.UppercaseResponse{V: v, Err: err}, nil
	}
}

// MakeCountEndpoint adapts svc.Count.
func MakeCountEndpoint(svc service.Service) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		req := request.(contract.CountRequest)
		v, err := svc.Count(ctx, req.S)
		return contract.CountResponse{V: v, Err: err}, nil
	}
}

// Uppercase implements service.Service over the endpoint, so a client-side Set is a Service.
func (s Set) Uppercase(ctx context.Context, str string) (string, error) {
	resp, err := s.UppercaseEndpoint(ctx, contract.UppercaseRequest{S: str})
	if err != nil {
		return "", err
	}
	r, ok := resp.(contract.UppercaseResponse)
	if !ok {
		return "", fmt.Errorf("uppercase: unexpected response %T", resp)
	}
	return r.V, r.Err
}

// Count implements service.Service over the endpoint.
func (s Set) Count(ctx context.Context, str string) (int, error) {
	resp, err := s.CountEndpoint(ctx, contract.CountRequest{S: str})
	if err != nil {
		return 0, err
	}
	r, ok := resp.(contract.CountResponse)
	if !ok {
		return 0, fmt.Errorf("count: unexpected response %T", resp)
	}
	return r.V, r.Err
}
