package service

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/example/gokit-nomad/stringsvc/platform/requestid"
)

// newJSONLogger returns an hclog logger writing JSON lines into the returned buffer.
func newJSONLogger() (hclog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return hclog.New(&hclog.LoggerOptions{Output: &buf, JSONFormat: true, Level: hclog.Trace}), &buf
}

// jsonLines parses every line of buf as one JSON object.
func jsonLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// oneLine asserts buf holds exactly one log line and returns it.
func oneLine(t *testing.T, buf *bytes.Buffer) map[string]any {
	t.Helper()
	lines := jsonLines(t, buf)
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want exactly 1:\n%s", len(lines), buf.String())
	}
	return lines[0]
}

func TestLoggingMiddlewareUppercase(t *testing.T) {
	t.Parallel()
	logger, buf := newJSONLogger()
	svc := New(LoggingMiddleware(logger))

	got, err := svc.Uppercase(context.Background(), "foo")
	if err != nil || got != "FOO" {
		t.Fatalf("Uppercase = %q, %v; want \"FOO\", nil", got, err)
	}
	line := oneLine(t, buf)
	for key, want := range map[string]any{"method": "uppercase", "input": "foo", "output": "FOO"} {
		if line[key] != want {
			t.Errorf("log %s = %#v, want %#v (line %v)", key, line[key], want, line)
		}
	}
	if _, ok := line["took"]; !ok {
		t.Errorf("log line has no took: %v", line)
	}
	if _, ok := line["err"]; ok {
		t.Errorf("successful call logged err: %v", line)
	}
}

func TestLoggingMiddlewareCount(t *testing.T) {
	t.Parallel()
	logger, buf := newJSONLogger()
	svc := New(LoggingMiddleware(logger))

	n, err := svc.Count(context.Background(), "héllo")
	if err != nil || n != 5 {
		t.Fatalf("Count = %d, %v; want 5, nil", n, err)
	}
	line := oneLine(t, buf)
	if line["method"] != "count" || line["input"] != "héllo" {
		t.Errorf("log line = %v, want method count and input héllo", line)
	}
	if out, ok := line["output"].(float64); !ok || out != 5 {
		t.Errorf("log output = %#v, want 5", line["output"])
	}
	if _, ok := line["took"]; !ok {
		t.Errorf("log line has no took: %v", line)
	}
	if _, ok := line["err"]; ok {
		t.Errorf("successful call logged err: %v", line)
	}
}

func TestLoggingMiddlewareError(t *testing.T) {
	t.Parallel()
	logger, buf := newJSONLogger()
	svc := New(LoggingMiddleware(logger))

	if _, err := svc.Uppercase(context.Background(), ""); !errors.Is(err, ErrEmpty) {
		t.Fatalf("Uppercase(\"\") error = %v, want ErrEmpty", err)
	}
	line := oneLine(t, buf)
	if line["method"] != "uppercase" {
		t.Errorf("log method = %#v, want uppercase", line["method"])
	}
	if line["err"] != ErrEmpty.Error() {
		t.Errorf("log err = %#v, want %q (line %v)", line["err"], ErrEmpty.Error(), line)
	}
	for _, key := range []string{"input", "output", "took"} {
		if _, ok := line[key]; !ok {
			t.Errorf("failed-call log line has no %s: %v", key, line)
		}
	}
}

// failingService fails every call with its err.
type failingService struct{ err error }

func (f failingService) Uppercase(context.Context, string) (string, error) { return "", f.err }
func (f failingService) Count(context.Context, string) (int, error)        { return 0, f.err }

func TestLoggingMiddlewareCountError(t *testing.T) {
	t.Parallel()
	logger, buf := newJSONLogger()
	boom := errors.New("boom")
	svc := LoggingMiddleware(logger)(failingService{err: boom})

	if _, err := svc.Count(context.Background(), "x"); !errors.Is(err, boom) {
		t.Fatalf("Count error = %v, want %v", err, boom)
	}
	line := oneLine(t, buf)
	if line["method"] != "count" || line["err"] != "boom" {
		t.Errorf("log line = %v, want method count and err boom", line)
	}
}

func TestLoggingMiddlewareLongInputLoggedBySize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        string
		wantInput string
	}{
		{name: "exactly 64 bytes", in: strings.Repeat("a", 64), wantInput: strings.Repeat("a", 64)},
		{name: "65 bytes", in: strings.Repeat("a", 65), wantInput: "(65 bytes)"},
		{name: "1000 bytes", in: strings.Repeat("b", 1000), wantInput: "(1000 bytes)"},
		// 33 runes, 66 bytes: the limit is in bytes.
		{name: "multibyte", in: strings.Repeat("é", 33), wantInput: "(66 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, buf := newJSONLogger()
			svc := New(LoggingMiddleware(logger))

			if _, err := svc.Uppercase(context.Background(), tt.in); err != nil {
				t.Fatal(err)
			}
			line := oneLine(t, buf)
			if line["input"] != tt.wantInput {
				t.Errorf("uppercase log input = %#v, want %q", line["input"], tt.wantInput)
			}
			wantOutput := strings.ToUpper(tt.in)
			if len(wantOutput) > 64 {
				wantOutput = tt.wantInput // same byte length as the input here
			}
			if line["output"] != wantOutput {
				t.Errorf("uppercase log output = %#v, want %q", line["output"], wantOutput)
			}

			buf.Reset()
			if _, err := svc.Count(context.Background(), tt.in); err != nil {
				t.Fatal(err)
			}
			line = oneLine(t, buf)
			if line["input"] != tt.wantInput {
				t.Errorf("count log input = %#v, want %q", line["input"], tt.wantInput)
			}
		})
	}
}

func TestLoggingMiddlewareLogsTheRequestID(t *testing.T) {
	logger, buf := newJSONLogger()
	svc := LoggingMiddleware(logger)(New())
	ctx := requestid.NewContext(context.Background(), "trace-4711")
	if _, err := svc.Uppercase(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Count(context.Background(), "b"); err != nil { // no ID: no field
		t.Fatal(err)
	}
	lines := jsonLines(t, buf)
	if len(lines) != 2 || lines[0]["request_id"] != "trace-4711" {
		t.Fatalf("log lines %v: want the first with request_id=trace-4711", lines)
	}
	if _, found := lines[1]["request_id"]; found {
		t.Errorf("log line %v: has a request_id though the context carried none", lines[1])
	}
}
