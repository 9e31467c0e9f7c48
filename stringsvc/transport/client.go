package transport

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-kit/kit/endpoint"
	httptransport "github.com/go-kit/kit/transport/http"

	"github.com/example/gokit-nomad/stringsvc/contract"
	"github.com/example/gokit-nomad/stringsvc/endpoints"
)

// NewUppercaseClient returns the client endpoint for UppercasePath on instance ("host:port" or a
// base URL). Non-200 answers come back as *contract.StatusError.
func NewUppercaseClient(instance string, client *http.Client) (endpoint.Endpoint, error) {
	return newClient(instance, contract.UppercasePath, contract.DecodeUppercaseResponse, client)
}

// NewCountClient returns the client endpoint for CountPath on instance.
func NewCountClient(instance string, client *http.Client) (endpoint.Endpoint, error) {
	return newClient(instance, contract.CountPath, contract.DecodeCountResponse, client)
}

// NewClientSet returns a Set, and so a service.Service, that calls instance over HTTP.
func NewClientSet(instance string, client *http.Client) (endpoints.Set, error) {
	up, err := NewUppercaseClient(instance, client)
	if err != nil {
		return endpoints.Set{}, err
	}
	count, err := NewCountClient(instance, client)
	if err != nil {
		return endpoints.Set{}, err
	}
	return endpoints.Set{UppercaseEndpoint: up, CountEndpoint: count}, nil
}

func newClient(instance, path string, decode httptransport.DecodeResponseFunc, client *http.Client) (endpoint.Endpoint, error) {
	if !strings.Contains(instance, "://") {
		instance = "http://" + instance
	}
	base, err := url.Parse(instance)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("instance %q is not host:port or a URL", instance)
	}
	target := base.JoinPath(path)
	return httptransport.NewClient(http.MethodPost, target, contract.EncodeRequest, decode,
		httptransport.SetClient(client)).Endpoint(), nil
}
