package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	kitlog "github.com/go-kit/log"

	"github.com/example/gokit-nomad/stringsvc/contract"
	"github.com/example/gokit-nomad/stringsvc/endpoints"
	"github.com/example/gokit-nomad/stringsvc/platform/testkit"
	"github.com/example/gokit-nomad/stringsvc/service"
	"github.com/example/gokit-nomad/stringsvc/transport"
)

// newDegrader returns f applied to a real stringsvc handler (with a /health route), drawing its
// random numbers from numbers in turn, and the methods of the failures it injected.
func newDegrader(t *testing.T, f faults, epoch time.Time, numbers ...float64) (*degrader, func() []string) {
	var mu sync.Mutex
	var failed []string
	health := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	d := &degrader{
		faults: f,
		next: transport.NewHTTPHandler(endpoints.New(service.New()), kitlog.NewNopLogger(),
			contract.Binding{Method: http.MethodGet, Path: contract.HealthPath, Handler: health}),
		epoch: epoch,
		random: func() float64 {
			mu.Lock()
			defer mu.Unlock()
			if len(numbers) == 0 {
				t.Fatal("more random numbers drawn than expected")
			}
			n := numbers[0]
			numbers = numbers[1:]
			return n
		},
		failed: func(method string) {
			mu.Lock()
			defer mu.Unlock()
			failed = append(failed, method)
		},
	}
	return d, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), failed...)
	}
}

// send serves one request and returns the status and body of the answer.
func send(h http.Handler, method, path string) (int, string) {
	r := httptest.NewRequest(method, path, strings.NewReader(`{"s":"gray"}`))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, strings.TrimSpace(w.Body.String())
}

func TestErrorShareOneFailsEveryServiceRequestAndNothingElse(t *testing.T) {
	d, failed := newDegrader(t, faults{errorShare: 1, delayShare: 1}, time.Now())
	for _, path := range []string{contract.UppercasePath, contract.CountPath} {
		if code, body := send(d, http.MethodPost, path); code != http.StatusInternalServerError || body != `{"err":"injected failure"}` {
			t.Errorf("POST %s: %d %s, want 500 {\"err\":\"injected failure\"}", path, code, body)
		}
	}
	if code, _ := send(d, http.MethodGet, contract.HealthPath); code != http.StatusOK {
		t.Errorf("GET /health: %d, want 200", code)
	}
	if code, _ := send(d, http.MethodGet, contract.UppercasePath); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /uppercase: %d, want the router's 405", code)
	}
	if got := strings.Join(failed(), " "); got != "uppercase count" {
		t.Errorf("injected failures counted for %q, want uppercase count", got)
	}
}

func TestZeroFaultsAnswerLikeStringsvc(t *testing.T) {
	d, failed := newDegrader(t, faults{delay: time.Hour, delayShare: 0}, time.Now())
	if code, body := send(d, http.MethodPost, contract.UppercasePath); code != http.StatusOK || body != `{"v":"GRAY"}` {
		t.Errorf("POST /uppercase: %d %s, want 200 {\"v\":\"GRAY\"}", code, body)
	}
	if code, body := send(d, http.MethodPost, contract.CountPath); code != http.StatusOK || body != `{"v":4}` {
		t.Errorf("POST /count: %d %s, want 200 {\"v\":4}", code, body)
	}
	if len(failed()) != 0 {
		t.Errorf("failures counted: %v", failed())
	}
}

// A share between 0 and 1 draws one number per request and fault: below the share, it applies.
func TestSharesFollowTheRandomNumbers(t *testing.T) {
	d, failed := newDegrader(t, faults{errorShare: 0.3, delayShare: 1}, time.Now(), 0.1, 0.5, 0.29, 0.3, 0.99)
	var codes []int
	for range 5 {
		code, _ := send(d, http.MethodPost, contract.UppercasePath)
		codes = append(codes, code)
	}
	want := []int{500, 200, 500, 200, 200}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("statuses %v, want %v", codes, want)
		}
	}
	if len(failed()) != 2 {
		t.Errorf("%d failures counted, want 2", len(failed()))
	}

	const delay = 200 * time.Millisecond
	d, _ = newDegrader(t, faults{delay: delay, delayShare: 0.5}, time.Now(), 0.4, 0.6)
	for i, wantDelayed := range []bool{true, false} {
		begin := time.Now()
		send(d, http.MethodPost, contract.UppercasePath)
		if took := time.Since(begin); (took >= delay) != wantDelayed {
			t.Errorf("request %d took %v; delayed %v, want %v", i, took, took >= delay, wantDelayed)
		}
	}
}

// During a stall, service requests are held until it ends while /health answers at once; outside
// one, they are answered at once.
func TestStallHoldsServiceRequestsUntilItEnds(t *testing.T) {
	const every, stallFor = time.Hour, time.Second
	epoch := time.Now().Add(-every) // a stall has just begun
	end := epoch.Add(every + stallFor)
	d, _ := newDegrader(t, faults{stallEvery: every, stallFor: stallFor, delayShare: 1}, epoch)

	var answered time.Time
	var mu sync.Mutex
	go func() {
		send(d, http.MethodPost, contract.UppercasePath)
		mu.Lock()
		defer mu.Unlock()
		answered = time.Now()
	}()
	if code, _ := send(d, http.MethodGet, contract.HealthPath); code != http.StatusOK || !time.Now().Before(end) {
		t.Errorf("GET /health during the stall: %d, answered %v after its end", code, time.Since(end))
	}
	testkit.Eventually(t, 5*time.Second, "the held request is answered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return !answered.IsZero()
	})
	if answered.Before(end) {
		t.Errorf("held request answered %v before the stall's end", end.Sub(answered))
	}

	d, _ = newDegrader(t, faults{stallEvery: every, stallFor: stallFor, delayShare: 1}, time.Now()) // next stall in an hour
	begin := time.Now()
	if code, _ := send(d, http.MethodPost, contract.UppercasePath); code != http.StatusOK || time.Since(begin) >= stallFor {
		t.Errorf("outside a stall: %d after %v, want 200 at once", code, time.Since(begin))
	}
}
