package upstream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-kit/kit/endpoint"

	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
)

// jsonType is the Content-Type the tests send.
const jsonType = "application/json; charset=utf-8"

var testSettings = Settings{MaxConns: 4, MaxConnWait: time.Second, DialTimeout: time.Second, IdleTimeout: time.Minute}

// newEndpoint returns the endpoint for path on the test server.
func newEndpoint(t *testing.T, server *httptest.Server, path string) endpoint.Endpoint {
	t.Helper()
	ep, closer, err := Factory(Target{Method: http.MethodPost, Path: path, Idempotent: true}, testSettings)(strings.TrimPrefix(server.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closer.Close() })
	return ep
}

func TestPassesBytesBothWays(t *testing.T) {
	var gotPath, gotType string
	var gotBody []byte
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotType = r.Method+" "+r.URL.Path, r.Header.Get("Content-Type")
		gotBody, _ = io.ReadAll(r.Body)
		_, _ = w.Write([]byte(`{"v":"FOO"}`))
	}))
	defer server.Close()

	resp, err := newEndpoint(t, server, "/uppercase")(context.Background(), Request{ContentType: jsonType, Body: []byte(`{"s":"foo"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if body := string(resp.(Response).Body); body != `{"v":"FOO"}` {
		t.Errorf("answer %q", body)
	}
	if gotPath != "POST /uppercase" || gotType != jsonType || string(gotBody) != `{"s":"foo"}` {
		t.Errorf("instance got %s (%s) %q", gotPath, gotType, gotBody)
	}
}

func TestNon200IsAStatusErrorWithTheBody(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusInternalServerError, http.StatusServiceUnavailable} {
		server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"err":"nope"}`))
		}))
		_, err := newEndpoint(t, server, "/count")(context.Background(), Request{ContentType: jsonType, Body: []byte(`{}`)})
		server.Close()
		var se *StatusError
		if !errors.As(err, &se) || se.Status != status || !bytes.Equal(se.Body, []byte(`{"err":"nope"}`)) {
			t.Errorf("status %d: got %v", status, err)
		}
	}
}

func TestTimeoutReportsTheContextsCause(t *testing.T) {
	release := make(chan struct{})
	server := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer server.Close()
	defer close(release)
	ep := newEndpoint(t, server, "/uppercase")

	cause := errors.New("attempt timed out")
	ctx, cancel := context.WithTimeoutCause(context.Background(), 50*time.Millisecond, cause)
	defer cancel()
	begin := time.Now()
	_, err := ep(ctx, Request{ContentType: jsonType, Body: []byte(`{}`)})
	if !errors.Is(err, cause) {
		t.Fatalf("err = %v, want the context's cause", err)
	}
	if took := time.Since(begin); took > time.Second {
		t.Fatalf("took %v, want about the 50ms deadline", took)
	}
}

func TestRefusedConnectionIsAnError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more
	ep, _, err := Factory(Target{Method: http.MethodPost, Path: "/uppercase", Idempotent: true}, testSettings)(addr)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ep(context.Background(), Request{ContentType: jsonType, Body: []byte(`{}`)})
	var nd interface{ NotDelivered() bool } // proxy.NotDelivered
	if !errors.As(err, &nd) || !nd.NotDelivered() {
		t.Fatalf("err = %v, want a refused connection, marked as never delivered", err)
	}
}

// An instance that closes its idle keep-alive connections (as it does on shutdown) must not fail
// the next request: the stale pooled connection is replaced by a fresh one.
func TestStaleKeepAliveConnectionIsRetriedOnAFreshOne(t *testing.T) {
	var requests atomic.Int32
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		_, _ = w.Write([]byte(`{"v":3}`))
	}))
	defer server.Close()
	ep := newEndpoint(t, server, "/count")
	for i := range 3 {
		if _, err := ep(context.Background(), Request{ContentType: jsonType, Body: []byte(`{}`)}); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		server.CloseClientConnections() // the pooled connection is now closed by the server
	}
	if n := requests.Load(); n != 3 {
		t.Fatalf("instance served %d requests, want 3", n)
	}
}

func TestWrongRequestTypeIsAnError(t *testing.T) {
	server := httptest.NewServer(http.NotFoundHandler())
	defer server.Close()
	if _, err := newEndpoint(t, server, "/count")(context.Background(), "not a passthrough"); err == nil {
		t.Fatal("want an error")
	}
}

// A connect that hangs ends with the attempt's deadline, not with the (longer) dial timeout.
func TestHangingConnectEndsWithTheAttempt(t *testing.T) {
	addr := fullListener(t)
	settings := testSettings
	settings.DialTimeout = time.Minute
	ep, _, err := Factory(Target{Method: http.MethodPost, Path: "/uppercase", Idempotent: true}, settings)(addr)
	if err != nil {
		t.Fatal(err)
	}
	cause := errors.New("attempt timed out")
	ctx, cancel := context.WithTimeoutCause(context.Background(), 100*time.Millisecond, cause)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := ep(ctx, Request{ContentType: jsonType, Body: []byte(`{}`)})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("want an error: the connection was never accepted")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the attempt outlived its deadline by 10 s: the dial ignores it")
	}
}

// fullListener returns the address of a listening socket whose accept queue is full and never
// served: a new connection's SYN is dropped, so connecting hangs (SYN retransmissions) rather than
// being refused.
func fullListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil { // room for one connection waiting to be accepted
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	// Fill the queue: connections until one no longer completes within 200 ms.
	for range 8 {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr // the queue is full: this SYN was dropped
		}
		t.Cleanup(func() { conn.Close() })
	}
	t.Fatal("the accept queue never filled")
	return ""
}

// Two routes to one instance share its pool: a connection the first route opened serves the
// second; the pool's idle connections close when the last route lets the instance go.
func TestRoutesShareTheInstancesPool(t *testing.T) {
	var opened, closed atomic.Int32
	server := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"v":"X"}`))
	}))
	server.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		switch state {
		case http.StateNew:
			opened.Add(1)
		case http.StateClosed:
			closed.Add(1)
		}
	}
	server.Start()
	defer server.Close()
	instance := strings.TrimPrefix(server.URL, "http://")
	pools := NewPools(testSettings)
	var closers []io.Closer
	for _, path := range []string{"/uppercase", "/count", "/uppercase"} {
		ep, closer, err := pools.Factory(Target{Method: http.MethodPost, Path: path, Idempotent: true})(instance)
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, closer)
		if _, err := ep(context.Background(), Request{ContentType: jsonType, Body: []byte(`{"s":"x"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := opened.Load(); n != 1 {
		t.Fatalf("%d connections opened for three sequential requests on two routes, want 1", n)
	}
	for _, c := range closers[:2] {
		c.Close()
	}
	if n := closed.Load(); n != 0 {
		t.Fatal("the pool closed its connections while a route still uses the instance")
	}
	closers[2].Close()
	testkit.Eventually(t, 5*time.Second, "the idle connection closed after the last route let go", func() bool {
		return closed.Load() == 1
	})
}

func TestForwardsTheTargetsMethodTheQueryAndTheContentTypeAsTheyCame(t *testing.T) {
	var got string
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Method + " " + r.URL.RequestURI() + " [" + r.Header.Get("Content-Type") + "]"
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusCreated)
	}))
	defer server.Close()
	ep, closer, err := Factory(Target{Method: http.MethodPut, Path: "/items"}, testSettings)(strings.TrimPrefix(server.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	for _, tc := range []struct {
		req  Request
		want string
	}{
		{Request{Query: "a=1&b=2", ContentType: "text/csv", Body: []byte("x,y")}, "PUT /items?a=1&b=2 [text/csv]"},
		{Request{Body: []byte("raw")}, "PUT /items []"}, // none added when the client sent none
	} {
		resp, err := ep(context.Background(), tc.req)
		if err != nil {
			t.Fatal(err)
		}
		if r := resp.(Response); got != tc.want || r.Status != http.StatusCreated || r.ContentType != "text/plain" {
			t.Errorf("instance got %q, want %q; answer %+v", got, tc.want, r)
		}
	}
}
