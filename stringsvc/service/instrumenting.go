package service

import (
	"context"
	"strconv"
	"time"

	"github.com/go-kit/kit/metrics"
)

// InstrumentingMiddleware records request counts and latencies per method (labels "method" and
// "error") and the distribution of Count results (no labels).
func InstrumentingMiddleware(requests metrics.Counter, latency metrics.Histogram, countResult metrics.Histogram) Middleware {
	return func(next Service) Service {
		return instrumentingService{requests: requests, latency: latency, countResult: countResult, next: next}
	}
}

type instrumentingService struct {
	requests    metrics.Counter
	latency     metrics.Histogram
	countResult metrics.Histogram
	next        Service
}

func (mw instrumentingService) Uppercase(ctx context.Context, s string) (out string, err error) {
	defer func(begin time.Time) { mw.observe("uppercase", begin, err != nil) }(time.Now())
	return mw.next.Uppercase(ctx, s)
}

func (mw instrumentingService) Count(ctx context.Context, s string) (n int, err error) {
	defer func(begin time.Time) {
		mw.observe("count", begin, err != nil)
		mw.countResult.Observe(float64(n))
	}(time.Now())
	return mw.next.Count(ctx, s)
}

func (mw instrumentingService) observe(method string, begin time.Time, failed bool) {
	lvs := []string{"method", method, "error", strconv.FormatBool(failed)}
	mw.requests.With(lvs...).Add(1)
	mw.latency.With(lvs...).Observe(time.Since(begin).Seconds())
}
