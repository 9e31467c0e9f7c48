package edge

import (
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// FailureLog logs the requests the gateway failed without turning a flood of them into a flood
// of lines: the first failure of a route and status after a quiet interval is logged at once,
// with its request ID and error; the rest are counted and summed up in one line per route and
// status every interval ("requests failed", with the count and the last error). A failure that
// happens once still shows at once; an outage shows as one line a second.
type FailureLog struct {
	logger   hclog.Logger
	interval time.Duration
	mu       sync.Mutex
	open     map[failureKey]*failureCount // keys with a failure in the current interval
	done     chan struct{}
	stopped  chan struct{}
}

type failureKey struct {
	route  string
	status int
}

type failureCount struct {
	count   int // since the line that was last logged for the key
	lastErr error
	lastID  string
}

// NewFailureLog starts a FailureLog writing to logger every interval; Close stops it.
func NewFailureLog(logger hclog.Logger, interval time.Duration) *FailureLog {
	l := &FailureLog{logger: logger, interval: interval, open: map[failureKey]*failureCount{},
		done: make(chan struct{}), stopped: make(chan struct{})}
	go l.loop()
	return l
}

// Failed records one failed request.
func (l *FailureLog) Failed(route string, status int, requestID string, err error) {
	key := failureKey{route, status}
	l.mu.Lock()
	c, ok := l.open[key]
	if !ok {
		l.open[key] = &failureCount{}
	} else {
		c.count++
		c.lastErr, c.lastID = err, requestID
	}
	l.mu.Unlock()
	if !ok {
		l.logger.Warn("request failed", "route", route, "status", status, "request_id", requestID, "err", err)
	}
}

func (l *FailureLog) loop() {
	defer close(l.stopped)
	tick := time.NewTicker(l.interval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			l.flush()
		case <-l.done:
			l.flush()
			return
		}
	}
}

// flush logs the counts of the interval; a key without failures in it is forgotten, so that
// its next failure is logged at once again.
func (l *FailureLog) flush() {
	type line struct {
		key failureKey
		c   failureCount
	}
	var lines []line
	l.mu.Lock()
	for key, c := range l.open {
		if c.count == 0 {
			delete(l.open, key)
			continue
		}
		lines = append(lines, line{key, *c})
		*c = failureCount{}
	}
	l.mu.Unlock()
	for _, ln := range lines {
		l.logger.Warn("requests failed", "route", ln.key.route, "status", ln.key.status, "count", ln.c.count,
			"interval", l.interval.String(), "last_request_id", ln.c.lastID, "last_err", ln.c.lastErr)
	}
}

// Close logs what is left and stops.
func (l *FailureLog) Close() {
	close(l.done)
	<-l.stopped
}
