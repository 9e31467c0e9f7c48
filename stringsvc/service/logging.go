package service

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/stringsvc/platform/requestid"
)

// maxLoggedInput is the longest input logged verbatim; longer inputs are logged by size only,
// so a 1 MiB request cannot flood the log.
const maxLoggedInput = 64

// LoggingMiddleware logs one line per call: method, input, output, error, duration and the
// request's ID (package requestid) when the context carries one.
func LoggingMiddleware(logger hclog.Logger) Middleware {
	return func(next Service) Service { return loggingService{logger: logger, next: next} }
}

type loggingService struct {
	logger hclog.Logger
	next   Service
}

func (mw loggingService) Uppercase(ctx context.Context, s string) (out string, err error) {
	defer func(begin time.Time) { mw.log(ctx, "uppercase", s, loggable(out), err, begin) }(time.Now())
	return mw.next.Uppercase(ctx, s)
}

func (mw loggingService) Count(ctx context.Context, s string) (n int, err error) {
	defer func(begin time.Time) { mw.log(ctx, "count", s, n, err, begin) }(time.Now())
	return mw.next.Count(ctx, s)
}

func (mw loggingService) log(ctx context.Context, method, input string, output any, err error, begin time.Time) {
	args := []any{"method", method, "input", loggable(input), "output", output, "took", time.Since(begin)}
	if id := requestid.FromContext(ctx); id != "" {
		args = append(args, "request_id", id)
	}
	if err != nil {
		mw.logger.Info("call failed", append(args, "err", err)...)
		return
	}
	mw.logger.Info("call", args...)
}

// loggable returns s itself when short, else only its size.
func loggable(s string) any {
	if len(s) <= maxLoggedInput {
		return s
	}
	return fmt.Sprintf("(%d bytes)", len(s))
}
