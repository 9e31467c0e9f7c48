package proxy

import (
	"slices"
	"testing"
	"time"
)

func TestJudgeComparesEachInstanceWithItsPeers(t *testing.T) {
	s := DefaultOutlierSettings()
	ms := time.Millisecond
	healthy := windowStats{Requests: 100, Successes: 100, Latency: 100 * 2 * ms}
	for _, tc := range []struct {
		name    string
		windows []windowStats
		want    []string
	}{
		{"all alike", []windowStats{healthy, healthy, healthy}, []string{"", "", ""}},
		{"one failing a share", []windowStats{healthy, {Requests: 100, Failures: 30, Successes: 70, Latency: 70 * 2 * ms}, healthy},
			[]string{"", ReasonFailureRate, ""}},
		{"all failing alike (overload, a shared dependency)", []windowStats{
			{Requests: 100, Failures: 60, Successes: 40, Latency: 40 * 300 * ms},
			{Requests: 100, Failures: 55, Successes: 45, Latency: 45 * 280 * ms},
			{Requests: 100, Failures: 65, Successes: 35, Latency: 35 * 310 * ms}}, []string{"", "", ""}},
		{"one 50 ms slower", []windowStats{healthy, healthy, {Requests: 100, Successes: 100, Latency: 100 * 52 * ms}},
			[]string{"", "", ReasonLatency}},
		{"one slow on a tenth of its answers", []windowStats{{Requests: 100, Successes: 100, Latency: 90*2*ms + 10*200*ms}, healthy, healthy},
			[]string{ReasonLatency, "", ""}},
		{"3x slower but only by 4 ms: noise", []windowStats{healthy, healthy, {Requests: 100, Successes: 100, Latency: 100 * 6 * ms}},
			[]string{"", "", ""}},
		{"too few requests to judge", []windowStats{healthy, {Requests: 5, Failures: 5}}, []string{"", ""}},
		{"no peer to compare with", []windowStats{{Requests: 100, Failures: 100}}, []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := judge(tc.windows, s); !slices.Equal(got, tc.want) {
				t.Fatalf("verdicts = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCapAndPanicThresholds(t *testing.T) {
	s := DefaultOutlierSettings() // 50% and 50%
	for _, tc := range []struct{ n, cap int }{{1, 1}, {2, 1}, {3, 1}, {4, 2}, {10, 5}} {
		if got := maxEjected(tc.n, s); got != tc.cap {
			t.Errorf("maxEjected(%d) = %d, want %d", tc.n, got, tc.cap)
		}
	}
	for _, tc := range []struct {
		bad, n int
		panic  bool
	}{{0, 3, false}, {1, 3, false}, {2, 3, true}, {2, 4, false}, {3, 4, true}} {
		if got := panicking(tc.bad, tc.n, s); got != tc.panic {
			t.Errorf("panicking(%d of %d) = %v, want %v", tc.bad, tc.n, got, tc.panic)
		}
	}
}
