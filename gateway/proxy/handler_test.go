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

func TestMalformedRequestIsRefusedBeforeAnyInstanceIsCalled(t *testing.T) {
	fleet := newFleet()
	route, _ := newTestRoute(t, fleet, quickPolicy, "a")
	server := NewServer(route, contract.DecodeUppercaseRequest, hclog.NewNullLogger())
	for body, status := range map[string]int{
		`{"s":`:   http.StatusBadRequest,
		`{"s":1}`: http.StatusBadRequest,
		`{"s":"` + strings.Repeat("x", contract.MaxBodyBytes) + `"}`: http.StatusRequestEntityTooLarge,
	} {
		w := httptest.NewRecorder()
		server.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/stringsvc/uppercase", strings.NewReader(body)))
		if w.Code != status {
			t.Errorf("body %.20q: status %d, want %d", body, w.Code, status)
		}
	}
	if calls := fleet.takeCalls(); len(calls) != 0 {
		t.Fatalf("instances called for malformed requests: %v", calls)
	}
	w := httptest.NewRecorder()
	server.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/stringsvc/uppercase", strings.NewReader(`{"s":"x"}`)))
	if w.Code != http.StatusOK || w.Body.String() != `{"v":"a"}` {
		t.Fatalf("valid request: %d %s", w.Code, w.Body)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
