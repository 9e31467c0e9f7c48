// Package upstream builds the gateway's client endpoints to one service instance: go-kit
// endpoints that send a Request (a body passed through as bytes) to a route's Target over the
// instance's pool of keep-alive connections (fasthttp's HostClient; one per instance, shared by
// every route: Pools), and return a 2xx answer as a Response or any other as a *StatusError.
//
// It replaces go-kit's net/http client on the gateway's hot path: net/http hands every request to
// two goroutines per connection (writeLoop, readLoop) and allocates far more per round trip;
// HostClient writes and reads in the caller's goroutine and reuses its buffers
// (bench/README.md, "Figures behind the code").
package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/sd"
	"github.com/valyala/fasthttp"

	"github.com/example/gokit-nomad/stringsvc/platform/requestid"
)

// Settings are shared by the clients of every instance.
type Settings struct {
	// MaxConns bounds the connections to one instance; a request that finds them all busy waits
	// at most MaxConnWait for one.
	MaxConns    int
	MaxConnWait time.Duration
	// DialTimeout bounds connecting, so that an instance that is gone fails fast.
	DialTimeout time.Duration
	// IdleTimeout closes keep-alive connections unused this long.
	IdleTimeout time.Duration
}

// Pools holds one pool of keep-alive connections per instance, shared by every route to it: the
// limit of MaxConns is the instance's, whatever the number of routes, and a connection one route
// opened serves the next request of any route.
type Pools struct {
	s     Settings
	mu    sync.Mutex
	pools map[string]*pool // by instance address
}

// pool is one instance's connections and how many route endpoints use them.
type pool struct {
	client *fasthttp.HostClient
	users  int
}

// NewPools returns Pools whose connections follow s.
func NewPools(s Settings) *Pools { return &Pools{s: s, pools: map[string]*pool{}} }

// Factory returns the go-kit sd.Factory of one route's target: given an instance ("host:port")
// it builds that instance's endpoint over the instance's pool; the io.Closer gives the pool
// back, and the last route to leave closes its idle connections.
func (ps *Pools) Factory(target Target) sd.Factory {
	return func(instance string) (endpoint.Endpoint, io.Closer, error) {
		if instance == "" {
			return nil, nil, errors.New("upstream: empty instance address")
		}
		client := ps.acquire(instance)
		uri := "http://" + instance + target.Path
		return func(ctx context.Context, request any) (any, error) {
			r, ok := request.(Request)
			if !ok {
				return nil, fmt.Errorf("upstream: request is %T, want upstream.Request", request)
			}
			return roundTrip(ctx, client, target, uri, r)
		}, releaser{ps, instance}, nil
	}
}

// Factory returns the sd.Factory of one target over pools of its own (one route's).
func Factory(target Target, s Settings) sd.Factory { return NewPools(s).Factory(target) }

func (ps *Pools) acquire(instance string) *fasthttp.HostClient {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p, ok := ps.pools[instance]
	if !ok {
		p = &pool{client: newHostClient(instance, ps.s)}
		ps.pools[instance] = p
	}
	p.users++
	return p.client
}

// release gives an instance's pool back; the last user closes its idle connections (requests
// still in flight finish).
func (ps *Pools) release(instance string) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p := ps.pools[instance]
	if p == nil {
		return
	}
	if p.users--; p.users == 0 {
		delete(ps.pools, instance)
		p.client.CloseIdleConnections()
	}
}

// releaser is the io.Closer of one route's endpoint of an instance.
type releaser struct {
	ps       *Pools
	instance string
}

func (r releaser) Close() error {
	r.ps.release(r.instance)
	return nil
}

// newHostClient is the connection pool of one instance.
func newHostClient(instance string, s Settings) *fasthttp.HostClient {
	return &fasthttp.HostClient{
		Addr: instance,
		// DialTimeout, not Dial: fasthttp passes it what is left of the request's deadline
		// (0: none), so that a connect that hangs (a SYN dropped by a full accept queue waits
		// for a 1 s retransmission) ends with the attempt, not after s.DialTimeout.
		DialTimeout: func(addr string, left time.Duration) (net.Conn, error) {
			if left <= 0 || left > s.DialTimeout {
				left = s.DialTimeout
			}
			conn, err := fasthttp.DialTimeout(addr, left)
			if err != nil {
				return nil, dialError{err}
			}
			return conn, nil
		},
		MaxConns:                      s.MaxConns,
		MaxConnWaitTimeout:            s.MaxConnWait,
		MaxIdleConnDuration:           s.IdleTimeout,
		MaxIdemponentCallAttempts:     1, // roundTrip retries a stale connection itself, knowing the route
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true,
		DisablePathNormalizing:        true,
	}
}

// roundTrip sends r to uri and reads the answer, within the context's deadline. An idempotent
// request that finds its kept-alive connection closed by the instance (as an instance does when it
// shuts down) is sent once more on a fresh connection.
func roundTrip(ctx context.Context, client *fasthttp.HostClient, target Target, uri string, r Request) (any, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(uri)
	if r.Query != "" {
		req.URI().SetQueryString(r.Query)
	}
	req.Header.SetMethod(target.Method)
	req.Header.SetNoDefaultContentType(true) // the client's Content-Type, or none
	if r.ContentType != "" {
		req.Header.SetContentType(r.ContentType)
	}
	if id := requestid.FromContext(ctx); id != "" {
		req.Header.Set(requestid.Header, id)
	}
	req.SetBodyRaw(r.Body)

	err := do(ctx, client, req, resp)
	if err != nil && target.Idempotent && staleConnection(err) {
		resp.Reset()
		err = do(ctx, client, req, resp)
	}
	if err != nil {
		if errors.Is(err, fasthttp.ErrTimeout) {
			// The context's deadline has passed: let the context say whose deadline it was (the
			// attempt's or the request's budget), as a net/http client would.
			<-ctx.Done()
			return nil, fmt.Errorf("%s: %w", uri, context.Cause(ctx))
		}
		if errors.Is(err, fasthttp.ErrNoFreeConns) {
			return nil, poolFull{fmt.Errorf("%s: %w", uri, err)}
		}
		return nil, fmt.Errorf("%s: %w", uri, err)
	}
	answer := resp.SwapBody(nil) // the answer's buffer, taken from resp (no copy): resp goes back to the pool without it
	contentType := ContentTypeOf(resp.Header.ContentType())
	if status := resp.StatusCode(); status < 200 || status > 299 {
		return nil, &StatusError{Status: status, Body: answer, ContentType: contentType}
	}
	return Response{Status: resp.StatusCode(), Body: answer, ContentType: contentType}, nil
}

// do sends req within the context's deadline.
func do(ctx context.Context, client *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response) error {
	if deadline, ok := ctx.Deadline(); ok {
		return client.DoDeadline(req, resp, deadline)
	}
	return client.Do(req, resp)
}

// staleConnection: a pooled keep-alive connection turned out to be closed by the instance
// before it answered.
func staleConnection(err error) bool {
	return errors.Is(err, fasthttp.ErrConnectionClosed) || errors.Is(err, io.EOF)
}
