package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/time/rate"

	"github.com/example/gokit-nomad/stringsvc/contract"
)

// With a limit, requests beyond it are answered 429 with Retry-After and a JSON error at once;
// the burst gets through. Without one (the default), nothing is refused.
func TestRateLimit(t *testing.T) {
	instance := strings.TrimPrefix(startInstance(t).URL, "http://")
	const burst = 5
	for _, tc := range []struct {
		name    string
		limiter *rate.Limiter
	}{
		{"limited to 1/s, burst 5", rate.NewLimiter(1, burst)},
		{"no limit", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gateway := startGatewayWith(t, []string{instance}, func(p *parts) { p.limiter = tc.limiter })
			ok, limited := 0, 0
			for range 4 * burst {
				resp, err := http.Post(gateway+"/stringsvc/count", contract.JSONContentType, strings.NewReader(`{"s":"abc"}`))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var answer contract.ErrorBody
				switch {
				case resp.StatusCode == http.StatusOK:
					ok++
				case resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "1" &&
					json.Unmarshal(body, &answer) == nil && answer.Err != "":
					limited++
				default:
					t.Fatalf("answered %d %s (Retry-After %q)", resp.StatusCode, body, resp.Header.Get("Retry-After"))
				}
			}
			if tc.limiter == nil && limited > 0 {
				t.Errorf("%d of %d requests refused without a limit", limited, 4*burst)
			}
			// 20 requests take far less than the 10 s that would refill the bucket 10 times.
			if tc.limiter != nil && (ok < burst || ok > 2*burst || limited == 0) {
				t.Errorf("%d answered, %d refused with a 1/s limit and a burst of %d", ok, limited, burst)
			}
		})
	}
}
