package contract

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func newTestRouter() http.Handler {
	named := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_ = WriteJSON(w, http.StatusOK, map[string]string{"handler": name})
		})
	}
	return NewRouter(
		Binding{Method: http.MethodPost, Path: UppercasePath, Handler: named("uppercase")},
		Binding{Method: http.MethodPost, Path: CountPath, Handler: named("count")},
		Binding{Method: http.MethodGet, Path: HealthPath, Handler: named("health")},
	)
}

func TestRouter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		method      string
		path        string
		wantStatus  int
		wantHandler string // for 200
		wantAllow   string // for 405
	}{
		{name: "uppercase", method: http.MethodPost, path: UppercasePath, wantStatus: 200, wantHandler: "uppercase"},
		{name: "count", method: http.MethodPost, path: CountPath, wantStatus: 200, wantHandler: "count"},
		{name: "health", method: http.MethodGet, path: HealthPath, wantStatus: 200, wantHandler: "health"},
		{name: "unknown path", method: http.MethodPost, path: "/nope", wantStatus: 404},
		{name: "root", method: http.MethodGet, path: "/", wantStatus: 404},
		{name: "path prefix is not a match", method: http.MethodPost, path: UppercasePath + "/x", wantStatus: 404},
		{name: "trailing slash is not a match", method: http.MethodPost, path: UppercasePath + "/", wantStatus: 404},
		{name: "GET on POST route", method: http.MethodGet, path: UppercasePath, wantStatus: 405, wantAllow: http.MethodPost},
		{name: "PUT on POST route", method: http.MethodPut, path: CountPath, wantStatus: 405, wantAllow: http.MethodPost},
		{name: "POST on GET route", method: http.MethodPost, path: HealthPath, wantStatus: 405, wantAllow: http.MethodGet},
	}
	router := newTestRouter()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			router.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, strings.NewReader(`{"s":"x"}`)))

			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", w.Code, tt.wantStatus, w.Body.String())
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if got := w.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			if tt.wantStatus == http.StatusOK {
				var body map[string]string
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body["handler"] != tt.wantHandler {
					t.Errorf("body = %s, want handler %q", w.Body.String(), tt.wantHandler)
				}
				return
			}
			var body ErrorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("error body %q is not JSON: %v", w.Body.String(), err)
			}
			if body.Err == "" {
				t.Errorf("error body %s has no err", w.Body.String())
			}
			if !strings.Contains(body.Err, tt.path) {
				t.Errorf("err %q does not name the path %q", body.Err, tt.path)
			}
		})
	}
}

func TestRouterNoRoutes(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	NewRouter().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/anything", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("status = %d, want 404", w.Code)
	}
}
