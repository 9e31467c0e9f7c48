package transport

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-kit/log"

	"github.com/example/gokit-nomad/stringsvc/contract"
	"github.com/example/gokit-nomad/stringsvc/endpoints"
	"github.com/example/gokit-nomad/stringsvc/platform/requestid"
	"github.com/example/gokit-nomad/stringsvc/service"
)

func newServer(t *testing.T, extra ...contract.Binding) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(NewHTTPHandler(endpoints.New(service.New()), log.NewNopLogger(), extra...))
	t.Cleanup(srv.Close)
	return srv
}

// oversizeBody is one byte over the limit; the server reads all of it, so the client never
// has a write cut short.
func oversizeBody() string {
	return `{"s":"` + strings.Repeat("a", contract.MaxBodyBytes+1-len(`{"s":""}`)) + `"}`
}

func TestHTTPHandler(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantBody   map[string]any // exact decoded body, when set
		wantErrKey bool           // the body is {"err": non-empty}
		wantAllow  string
	}{
		{name: "uppercase", method: http.MethodPost, path: "/uppercase", body: `{"s":"foo"}`,
			wantStatus: 200, wantBody: map[string]any{"v": "FOO"}},
		{name: "uppercase unicode", method: http.MethodPost, path: "/uppercase", body: `{"s":"héllo"}`,
			wantStatus: 200, wantBody: map[string]any{"v": "HÉLLO"}},
		{name: "count", method: http.MethodPost, path: "/count", body: `{"s":"héllo"}`,
			wantStatus: 200, wantBody: map[string]any{"v": float64(5)}},
		{name: "count empty", method: http.MethodPost, path: "/count", body: `{"s":""}`,
			wantStatus: 200, wantBody: map[string]any{"v": float64(0)}},
		{name: "uppercase empty", method: http.MethodPost, path: "/uppercase", body: `{"s":""}`,
			wantStatus: 400, wantBody: map[string]any{"err": "empty string"}},
		{name: "malformed", method: http.MethodPost, path: "/uppercase", body: `{"s":`,
			wantStatus: 400, wantErrKey: true},
		{name: "wrong type", method: http.MethodPost, path: "/count", body: `{"s":5}`,
			wantStatus: 400, wantErrKey: true},
		{name: "GET", method: http.MethodGet, path: "/uppercase",
			wantStatus: 405, wantErrKey: true, wantAllow: http.MethodPost},
		{name: "unknown path", method: http.MethodPost, path: "/lowercase", body: `{"s":"foo"}`,
			wantStatus: 404, wantErrKey: true},
		{name: "oversize", method: http.MethodPost, path: "/uppercase", body: oversizeBody(),
			wantStatus: 413, wantErrKey: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}

			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, tt.wantStatus, raw)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if got := resp.Header.Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			var body map[string]any
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("body %q is not JSON: %v", raw, err)
			}
			if tt.wantBody != nil {
				if len(body) != len(tt.wantBody) {
					t.Errorf("body = %v, want %v", body, tt.wantBody)
				}
				for k, v := range tt.wantBody {
					if body[k] != v {
						t.Errorf("body[%q] = %#v, want %#v (body %s)", k, body[k], v, raw)
					}
				}
			}
			if tt.wantErrKey {
				if s, ok := body["err"].(string); !ok || s == "" || len(body) != 1 {
					t.Errorf("body = %s, want {\"err\": \"...\"}", raw)
				}
			}
		})
	}
}

func TestHTTPHandlerExtraRoutes(t *testing.T) {
	t.Parallel()
	health := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	srv := newServer(t, contract.Binding{Method: http.MethodGet, Path: contract.HealthPath, Handler: health})

	resp, err := srv.Client().Get(srv.URL + contract.HealthPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Errorf("GET /health = %d %q, want 200 \"ok\"", resp.StatusCode, body)
	}

	// The extra route does not replace the contract routes.
	resp, err = srv.Client().Post(srv.URL+contract.UppercasePath, "application/json", strings.NewReader(`{"s":"a"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("POST /uppercase with extra routes = %d, want 200", resp.StatusCode)
	}
}

// Every answer, an error too, carries the request's ID: the caller's when it sent a sane one,
// else a new one.
func TestEveryAnswerCarriesARequestID(t *testing.T) {
	srv := newServer(t)
	for _, tc := range []struct {
		path, body, sent string
		kept             bool
	}{
		{contract.UppercasePath, `{"s":"a"}`, "trace-1", true},
		{contract.UppercasePath, `{"s":""}`, "trace-2", true}, // a 400
		{"/nope", `{}`, "trace-3", true},                      // a 404
		{contract.CountPath, `{"s":"a"}`, "", false},
		{contract.CountPath, `{"s":"a"}`, "no\u00e9", false},
	} {
		req, err := http.NewRequest(http.MethodPost, srv.URL+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		if tc.sent != "" {
			req.Header.Set(requestid.Header, tc.sent)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get(requestid.Header)
		if tc.kept && got != tc.sent || !tc.kept && (got == "" || got == tc.sent) {
			t.Errorf("%s with ID %q: answered with ID %q (kept: %v)", tc.path, tc.sent, got, tc.kept)
		}
	}
}
