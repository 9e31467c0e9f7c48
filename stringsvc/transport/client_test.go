package transport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/example/gokit-nomad/stringsvc/contract"
	"github.com/example/gokit-nomad/stringsvc/service"
)

// hostPort returns the "host:port" of a test server.
func hostPort(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func newClientService(t *testing.T, instance string) service.Service {
	t.Helper()
	set, err := NewClientSet(instance, http.DefaultClient)
	if err != nil {
		t.Fatalf("NewClientSet(%q) error = %v", instance, err)
	}
	return set // the Set is itself a service.Service
}

func TestClientSetRoundTrip(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	for _, instance := range []string{hostPort(t, srv), srv.URL, srv.URL + "/"} {
		t.Run(instance, func(t *testing.T) {
			t.Parallel()
			svc := newClientService(t, instance)
			ctx := context.Background()

			if got, err := svc.Uppercase(ctx, "foo"); err != nil || got != "FOO" {
				t.Errorf("Uppercase(\"foo\") = %q, %v; want \"FOO\", nil", got, err)
			}
			if got, err := svc.Uppercase(ctx, "straße"); err != nil || got != strings.ToUpper("straße") {
				t.Errorf("Uppercase(\"straße\") = %q, %v; want %q, nil", got, err, strings.ToUpper("straße"))
			}
			if got, err := svc.Count(ctx, "héllo"); err != nil || got != 5 {
				t.Errorf("Count(\"héllo\") = %d, %v; want 5, nil", got, err)
			}
			if got, err := svc.Count(ctx, ""); err != nil || got != 0 {
				t.Errorf("Count(\"\") = %d, %v; want 0, nil", got, err)
			}
		})
	}
}

func TestClientSetUppercaseEmptyIsStatusError(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	svc := newClientService(t, hostPort(t, srv))

	got, err := svc.Uppercase(context.Background(), "")
	if err == nil {
		t.Fatalf("Uppercase(\"\") = %q, nil; want an error", got)
	}
	var se *contract.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("error = %T %v, want *contract.StatusError", err, err)
	}
	if se.Status != http.StatusBadRequest {
		t.Errorf("Status = %d, want 400", se.Status)
	}
	if !se.IsClientError() {
		t.Error("IsClientError() = false, want true")
	}
	if want := "instance answered 400: empty string"; se.Error() != want {
		t.Errorf("Error() = %q, want %q", se.Error(), want)
	}
}

func TestClientServerError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		contract.WriteError(w, http.StatusInternalServerError, errors.New("boom"))
	}))
	t.Cleanup(srv.Close)
	svc := newClientService(t, hostPort(t, srv))

	_, err := svc.Count(context.Background(), "x")
	var se *contract.StatusError
	if !errors.As(err, &se) || se.Status != http.StatusInternalServerError || se.IsClientError() {
		t.Fatalf("error = %v, want a 500 *contract.StatusError that is not a client error", err)
	}
}

func TestClientSendsPostToContractPath(t *testing.T) {
	t.Parallel()
	type seen struct{ method, path, body string }
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.Path, string(body)}
		_ = contract.WriteJSON(w, http.StatusOK, map[string]int{"v": 3})
	}))
	t.Cleanup(srv.Close)

	ep, err := NewCountClient(srv.URL+"/base", http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ep(context.Background(), contract.CountRequest{S: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := resp.(contract.CountResponse); !ok || r.V != 3 {
		t.Errorf("response = %#v, want CountResponse{V: 3}", resp)
	}
	want := seen{method: http.MethodPost, path: "/base" + contract.CountPath, body: `{"s":"abc"}`}
	if s := <-got; s != want {
		t.Errorf("server saw %+v, want %+v", s, want)
	}
}

func TestNewClientInvalidInstance(t *testing.T) {
	t.Parallel()
	for _, instance := range []string{"::bad", "", "http://", "http://[::1"} {
		if _, err := NewUppercaseClient(instance, http.DefaultClient); err == nil {
			t.Errorf("NewUppercaseClient(%q) succeeded, want an error", instance)
		}
		if _, err := NewCountClient(instance, http.DefaultClient); err == nil {
			t.Errorf("NewCountClient(%q) succeeded, want an error", instance)
		}
		if _, err := NewClientSet(instance, http.DefaultClient); err == nil {
			t.Errorf("NewClientSet(%q) succeeded, want an error", instance)
		}
	}
}
