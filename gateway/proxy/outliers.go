package proxy

import (
	"slices"
	"time"
)

// OutlierSettings say when an instance is ejected, always judged against its peers (the other
// instances of the route), never on its own: when the whole service is slow or failing (an
// overload, a bad dependency), every instance looks alike and none is ejected.
type OutlierSettings struct {
	// Interval is the window over which each instance's requests, failures and latency are
	// summed and compared with its peers'.
	Interval time.Duration
	// MinRequests is how many attempts an instance (and at least one peer) needs in a window
	// to be judged.
	MinRequests int64
	// FailureRateGap ejects an instance whose share of failed attempts exceeds its peers' by at
	// least this much (0.2: 30% failing beside peers at 5% is ejected; all at 40% is not).
	FailureRateGap float64
	// LatencyFactor and LatencyGap eject an instance whose mean latency is at least
	// LatencyFactor times its peers' and LatencyGap above it (both must hold: a 3× on
	// half-millisecond answers is noise, 15 ms over 100 ms answers is too).
	LatencyFactor float64
	LatencyGap    time.Duration
	// MaxEjectedPercent caps the instances ejected at once, at least one: the rest must be able
	// to carry the load (Envoy's max_ejection_percent).
	MaxEjectedPercent int
	// PanicPercent: when fewer than this share of instances look healthy, ejection is suspended
	// and every instance gets traffic, since health, not the instances, is then the likelier
	// liar (Envoy's panic threshold).
	PanicPercent int
	// MaxEjection bounds an ejection that grows with each repeated one (breaker open time ×
	// times ejected in a row).
	MaxEjection time.Duration
}

// DefaultOutlierSettings are the gateway's defaults (docs/design.md, "Decisions").
func DefaultOutlierSettings() OutlierSettings {
	return OutlierSettings{
		Interval:          500 * time.Millisecond,
		MinRequests:       20,
		FailureRateGap:    0.2,
		LatencyFactor:     3,
		LatencyGap:        15 * time.Millisecond,
		MaxEjectedPercent: 50,
		PanicPercent:      50,
		MaxEjection:       time.Minute,
	}
}

// Ejection reasons: the reason label of the ejection metric and log line, and the status page's.
const (
	ReasonConsecutiveFailures = "consecutive_failures"
	ReasonFailureRate         = "failure_rate"
	ReasonLatency             = "latency"
)

// windowStats is one instance's attempts in one window.
type windowStats struct {
	Requests  int64         // attempts that ended (canceled and not-sent ones excluded)
	Failures  int64         // of which counted against the instance
	Successes int64         // answered (2xx or 4xx)
	Latency   time.Duration // summed over the answered ones
}

func (w windowStats) failureRate() float64 {
	if w.Requests == 0 {
		return 0
	}
	return float64(w.Failures) / float64(w.Requests)
}

func (w windowStats) meanLatency() time.Duration {
	if w.Successes == 0 {
		return 0
	}
	return w.Latency / time.Duration(w.Successes)
}

// judge returns, for each instance's window, the reason to eject it ("" for none): its failure
// rate or mean latency against the median of its peers' (the others with enough requests).
func judge(windows []windowStats, s OutlierSettings) []string {
	verdicts := make([]string, len(windows))
	for i, w := range windows {
		if w.Requests < s.MinRequests {
			continue
		}
		var rates []float64
		var latencies []time.Duration
		for j, peer := range windows {
			if j == i || peer.Requests < s.MinRequests {
				continue
			}
			rates = append(rates, peer.failureRate())
			if peer.Successes > 0 {
				latencies = append(latencies, peer.meanLatency())
			}
		}
		if len(rates) == 0 {
			continue // nobody to compare with
		}
		if w.failureRate()-median(rates) >= s.FailureRateGap {
			verdicts[i] = ReasonFailureRate
			continue
		}
		if len(latencies) > 0 && w.Successes > 0 {
			peers, mine := median(latencies), w.meanLatency()
			if float64(mine) >= s.LatencyFactor*float64(peers) && mine-peers >= s.LatencyGap {
				verdicts[i] = ReasonLatency
			}
		}
	}
	return verdicts
}

// slowerThanPeers reports whether one answer's latency would make an instance a latency outlier
// beside peers whose mean is peers (a half-open breaker's probe is judged so).
func slowerThanPeers(latency, peers time.Duration, s OutlierSettings) bool {
	return peers > 0 && float64(latency) >= s.LatencyFactor*float64(peers) && latency-peers >= s.LatencyGap
}

// maxEjected is how many of n instances may be ejected at once: MaxEjectedPercent of them, at
// least one.
func maxEjected(n int, s OutlierSettings) int {
	return max(1, n*s.MaxEjectedPercent/100)
}

// panicking reports whether, with bad of n instances ejected or looking bad, too few are left
// healthy to trust the verdicts.
func panicking(bad, n int, s OutlierSettings) bool {
	return n > 0 && (n-bad)*100 < s.PanicPercent*n
}

func median[T int64 | float64 | time.Duration](values []T) T {
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	mid := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[mid]
	}
	return (sorted[mid-1] + sorted[mid]) / 2
}
