package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/stringsvc/contract"
)

func TestGatewayErrorsAreJSONWithTheRightStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
	}{
		{"no instances", ErrNoInstances, http.StatusServiceUnavailable},
		{"every breaker open", ErrAllBreakersOpen, http.StatusServiceUnavailable},
		{"all attempts failed", &AttemptsError{Attempts: 3, Last: serverError}, http.StatusBadGateway},
		{"budget exhausted", ErrBudgetExhausted, http.StatusGatewayTimeout},
		{"caller went away", context.Canceled, statusClientClosedRequest},
		{"malformed request", &contract.RequestError{Status: http.StatusBadRequest, Msg: "bad"}, http.StatusBadRequest},
		{"unexpected", errors.New("surprise"), http.StatusInternalServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			errorEncoder(hclog.NewNullLogger())(context.Background(), tc.err, w)
			want := `{"err":` + jsonString(tc.err.Error()) + `}`
			if w.Code != tc.status || w.Body.String() != want || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
				t.Fatalf("got %d %s (%s), want %d %s", w.Code, w.Body, w.Header().Get("Content-Type"), tc.status, want)
			}
		})
	}
}

func TestInstanceClientErrorIsPassedThroughUnchanged(t *testing.T) {
	w := httptest.NewRecorder()
	body := []byte(`{"err":"empty string"}` + "\n")
	errorEncoder(hclog.NewNullLogger())(context.Background(), &contract.StatusError{Status: 422, Body: body}, w)
	if w.Code != 422 || w.Body.String() != string(body) {
		t.Fatalf("got %d %q, want 422 %q", w.Code, w.Body, body)
	}
}

func TestServerPassesBytesBothWays(t *testing.T) {
	fleet := newFleet()
	route, _ := newTestRoute(t, fleet, quickPolicy, "a")
	server := NewServer(route, hclog.NewNullLogger())
	w := httptest.NewRecorder()
	server.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/stringsvc/uppercase", strings.NewReader(`{"s":"x"}`)))
	if w.Code != http.StatusOK || w.Body.String() != `{"v":"a"}` || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("got %d %s (%s), want 200 {\"v\":\"a\"} as JSON", w.Code, w.Body, w.Header().Get("Content-Type"))
	}
}

func TestOversizedRequestIsRefusedBeforeAnyInstanceIsCalled(t *testing.T) {
	fleet := newFleet()
	route, _ := newTestRoute(t, fleet, quickPolicy, "a")
	server := NewServer(route, hclog.NewNullLogger())
	w := httptest.NewRecorder()
	huge := `{"s":"` + strings.Repeat("x", contract.MaxBodyBytes) + `"}`
	server.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/stringsvc/uppercase", strings.NewReader(huge)))
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", w.Code)
	}
	if calls := fleet.takeCalls(); len(calls) != 0 {
		t.Fatalf("instances called for an oversized request: %v", calls)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
