package edge

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/go-kit/kit/endpoint"
	"github.com/hashicorp/go-hclog"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/example/gokit-nomad/gateway/proxy"
	"github.com/example/gokit-nomad/gateway/upstream"
)

// limit is the body limit of the tests' routes.
const limit = 1 << 20

// serve runs handler on one request and returns the answer's status, Content-Type and body.
func serve(handler fasthttp.RequestHandler, method, path, body string) (int, string, string, *fasthttp.RequestCtx) {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(path)
	req.SetBodyString(body)
	ctx := &fasthttp.RequestCtx{}
	ctx.Init(&req, nil, nil)
	handler(ctx)
	return ctx.Response.StatusCode(), string(ctx.Response.Header.ContentType()), string(ctx.Response.Body()), ctx
}

// echo is an endpoint that answers {"echo":<request body>} as JSON.
func echo(_ context.Context, request any) (any, error) {
	body := append([]byte(`{"echo":`), append(request.(upstream.Request).Body, '}')...)
	return upstream.Response{Status: http.StatusOK, Body: body, ContentType: JSONContentType}, nil
}

func failing(err error) endpoint.Endpoint {
	return func(context.Context, any) (any, error) { return nil, err }
}

func TestEndpointHandlerPassesBytesBothWays(t *testing.T) {
	status, ctype, body, _ := serve(EndpointHandler("x", limit, echo, quietLog(t)), http.MethodPost, "/x", `{"s":"foo"}`)
	if status != 200 || ctype != JSONContentType || body != `{"echo":{"s":"foo"}}` {
		t.Fatalf("got %d (%s) %s", status, ctype, body)
	}
}

// The request's Content-Type and query go to the endpoint as they came; the answer's status and
// Content-Type come back as the instance sent them.
func TestEndpointHandlerPassesTheQueryTheContentTypeAndTheStatus(t *testing.T) {
	var got upstream.Request
	ep := func(_ context.Context, request any) (any, error) {
		got = request.(upstream.Request)
		return upstream.Response{Status: http.StatusCreated, Body: []byte("made"), ContentType: "text/plain"}, nil
	}
	var req fasthttp.Request
	req.Header.SetMethod(http.MethodPut)
	req.SetRequestURI("/x?id=7")
	req.Header.SetContentType("text/csv")
	req.SetBodyString("a,b")
	ctx := &fasthttp.RequestCtx{}
	ctx.Init(&req, nil, nil)
	EndpointHandler("x", limit, ep, quietLog(t))(ctx)
	if got.Query != "id=7" || got.ContentType != "text/csv" || string(got.Body) != "a,b" {
		t.Errorf("endpoint got %+v", got)
	}
	if ctx.Response.StatusCode() != http.StatusCreated || string(ctx.Response.Header.ContentType()) != "text/plain" || string(ctx.Response.Body()) != "made" {
		t.Errorf("answer %d (%s) %s", ctx.Response.StatusCode(), ctx.Response.Header.ContentType(), ctx.Response.Body())
	}
}

func TestEndpointHandlerErrors(t *testing.T) {
	instance400 := &upstream.StatusError{Status: 400, Body: []byte(`{"err":"empty string"}`), ContentType: JSONContentType}
	for _, tc := range []struct {
		name   string
		err    error
		status int
		body   string
	}{
		{"instance's 4xx passed through", instance400, 400, `{"err":"empty string"}`},
		{"no instances", proxy.ErrNoInstances, 503, `{"err":"no instances of the service are available"}`},
		{"every breaker open", proxy.ErrAllBreakersOpen, 503, `{"err":"every instance's circuit breaker is open"}`},
		{"budget exhausted", proxy.ErrBudgetExhausted, 504, `{"err":"the request's time budget ran out"}`},
		{"shed", proxy.ErrShed, 503, `{"err":"the service is at its concurrency limit; retry later"}`},
		{"all attempts failed", &proxy.AttemptsError{Attempts: 3, Last: errors.New("reset"), Delivered: true}, 502, `{"err":"all 3 attempts failed; last: reset"}`},
		{"no attempt reached an instance", &proxy.AttemptsError{Attempts: 3, Last: errors.New("refused")}, 503, `{"err":"all 3 attempts failed; last: refused"}`},
		{"unexpected", errors.New("surprise"), 500, `{"err":"surprise"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, ctype, body, ctx := serve(EndpointHandler("x", limit, failing(tc.err), quietLog(t)), http.MethodPost, "/x", `{}`)
			if status != tc.status || ctype != JSONContentType || body != tc.body {
				t.Fatalf("got %d (%s) %s, want %d %s", status, ctype, body, tc.status, tc.body)
			}
			if retryAfter := string(ctx.Response.Header.Peek("Retry-After")); (status == 503) != (retryAfter == "1") {
				t.Fatalf("Retry-After = %q", retryAfter)
			}
		})
	}
}

func TestEndpointHandlerWrongAnswerTypeIsA500(t *testing.T) {
	typed := func(context.Context, any) (any, error) { return struct{ V int }{V: 1}, nil }
	if status, _, _, _ := serve(EndpointHandler("x", limit, typed, quietLog(t)), http.MethodPost, "/x", `{}`); status != 500 {
		t.Fatalf("status %d, want 500", status)
	}
}

func TestRouter(t *testing.T) {
	router := NewRouter(Binding{Method: http.MethodGet, Path: "/health", Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("ok") }})
	if status, _, body, _ := serve(router.Serve, http.MethodPost, "/svc/echo", `1`); status != 503 || !strings.Contains(body, "not shown the gateway its services") {
		t.Errorf("before the routes are known: %d %s, want 503", status, body)
	}
	router.Publish([]Binding{
		{Method: http.MethodPost, Path: "/svc/echo", Handler: EndpointHandler("x", limit, echo, quietLog(t))},
		{Method: http.MethodPut, Path: "/svc/echo", Handler: EndpointHandler("y", limit, echo, quietLog(t))},
	})
	router.Ready()
	if status, _, body, _ := serve(router.Serve, http.MethodPost, "/svc/echo", `1`); status != 200 || body != `{"echo":1}` {
		t.Errorf("route: %d %s", status, body)
	}
	if status, _, body, _ := serve(router.Serve, http.MethodGet, "/health", ``); status != 200 || body != "ok" {
		t.Errorf("fixed binding: %d %s", status, body)
	}
	if status, _, body, _ := serve(router.Serve, http.MethodPost, "/svc/other", `1`); status != 404 || body != `{"err":"no route for /svc/other"}` {
		t.Errorf("unknown path: %d %s", status, body)
	}
	status, _, body, ctx := serve(router.Serve, http.MethodGet, "/svc/echo", ``)
	if status != 405 || body != `{"err":"/svc/echo needs POST, PUT, not GET"}` || string(ctx.Response.Header.Peek("Allow")) != "POST, PUT" {
		t.Errorf("wrong method: %d %s Allow=%q", status, body, ctx.Response.Header.Peek("Allow"))
	}
	router.Publish(nil)
	if status, _, _, _ := serve(router.Serve, http.MethodPost, "/svc/echo", `1`); status != 404 {
		t.Errorf("a route published away: %d, want 404", status)
	}
}

func TestEndpointHandlerRefusesBodiesOverTheLimit(t *testing.T) {
	called := false
	ep := func(context.Context, any) (any, error) { called = true; return upstream.Response{}, nil }
	status, _, body, _ := serve(EndpointHandler("x", 100, ep, quietLog(t)), http.MethodPost, "/x", strings.Repeat("x", 101))
	if status != 413 || body != `{"err":"request body is larger than 100 bytes"}` || called {
		t.Fatalf("got %d %s (endpoint called: %v), want 413 without calling the endpoint", status, body, called)
	}
}

// The server's own refusals (before any handler runs) are JSON too: a body
// announced larger than the server reads is refused from its header alone.
func TestServerRefusesOversizedBodiesAsJSON(t *testing.T) {
	called := false
	head := fmt.Sprintf("POST /stringsvc/uppercase HTTP/1.1\r\nHost: gateway\r\nContent-Length: %d\r\n\r\n", 2*DefaultLimits().MaxBodyBytes+1)
	resp := rawExchange(t, func(*fasthttp.RequestCtx) { called = true }, head)
	want := `{"err":"request body is larger than 1048576 bytes"}`
	if resp.StatusCode() != 413 || string(resp.Body()) != want || string(resp.Header.ContentType()) != JSONContentType {
		t.Fatalf("got %d (%s) %s, want 413 %s", resp.StatusCode(), resp.Header.ContentType(), resp.Body(), want)
	}
	if called {
		t.Fatal("the handler ran for an oversized body")
	}
}

// A request fasthttp cannot parse gets a short JSON 400 that does not quote the request.
func TestServerDoesNotEchoAMalformedRequest(t *testing.T) {
	resp := rawExchange(t, func(*fasthttp.RequestCtx) {}, "GET /<script>secret HTTP/1.1 garbage\r\nno colon here\r\n\r\n")
	if resp.StatusCode() != 400 || string(resp.Body()) != `{"err":"malformed HTTP request"}` {
		t.Fatalf("got %d %s, want 400 {\"err\":\"malformed HTTP request\"}", resp.StatusCode(), resp.Body())
	}
}

// rawExchange writes raw to a server of handler with the default limits and reads its answer.
func rawExchange(t *testing.T, handler fasthttp.RequestHandler, raw string) *fasthttp.Response {
	t.Helper()
	server := NewServer(handler, hclog.NewNullLogger(), DefaultLimits())
	ln := fasthttputil.NewInmemoryListener()
	t.Cleanup(func() { ln.Close() })
	go func() { _ = server.Serve(ln) }()
	conn, err := ln.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	var resp fasthttp.Response
	if err := resp.Read(bufio.NewReader(conn)); err != nil {
		t.Fatal(err)
	}
	return &resp
}
