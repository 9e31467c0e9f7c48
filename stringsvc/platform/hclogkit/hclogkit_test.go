package hclogkit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func newJSONLogger(level hclog.Level) (hclog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return hclog.New(&hclog.LoggerOptions{Output: &buf, JSONFormat: true, Level: level}), &buf
}

func parseLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return lines
}

func TestAdapt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		keyvals     []any
		wantLevel   string
		wantMessage string
		wantFields  map[string]any // present with these values
		wantAbsent  []string       // keys that must not be fields
	}{
		{
			name:        "msg becomes the message",
			keyvals:     []any{"msg", "hello", "k", "v"},
			wantLevel:   "info",
			wantMessage: "hello",
			wantFields:  map[string]any{"k": "v"},
			wantAbsent:  []string{"msg"},
		},
		{
			name:        "message key becomes the message",
			keyvals:     []any{"k", "v", "message", "hi"},
			wantLevel:   "info",
			wantMessage: "hi",
			wantFields:  map[string]any{"k": "v"},
			wantAbsent:  []string{"message"},
		},
		{
			name:        "err means error level",
			keyvals:     []any{"msg", "register failed", "err", errors.New("connection refused")},
			wantLevel:   "error",
			wantMessage: "register failed",
			wantFields:  map[string]any{"err": "connection refused"},
		},
		{
			name:        "error key means error level and is the message without msg",
			keyvals:     []any{"transport", "HTTP", "error", "boom"},
			wantLevel:   "error",
			wantMessage: "boom",
			wantFields:  map[string]any{"transport": "HTTP"},
			wantAbsent:  []string{"error"},
		},
		{
			name:        "action is the message without msg (go-kit's registrar)",
			keyvals:     []any{"service", "stringsvc", "action", "register"},
			wantLevel:   "info",
			wantMessage: "register",
			wantFields:  map[string]any{"service": "stringsvc"},
			wantAbsent:  []string{"action"},
		},
		{
			name:        "action wins over err",
			keyvals:     []any{"err", "boom", "action", "deregister"},
			wantLevel:   "error",
			wantMessage: "deregister",
			wantFields:  map[string]any{"err": "boom"},
		},
		{
			name:        "first pair becomes the message without any message key",
			keyvals:     []any{"service", "stringsvc", "instances", 3},
			wantLevel:   "info",
			wantMessage: "service=stringsvc",
			wantFields:  map[string]any{"instances": float64(3)},
			wantAbsent:  []string{"service"},
		},
		{
			name:        "non-string values in the message",
			keyvals:     []any{"port", 8080, "ok", true},
			wantLevel:   "info",
			wantMessage: "port=8080",
			wantFields:  map[string]any{"ok": true},
		},
		{
			name:        "odd keyvals",
			keyvals:     []any{"msg", "m", "dangling"},
			wantLevel:   "info",
			wantMessage: "m",
			wantFields:  map[string]any{"dangling": "(missing)"},
		},
		{
			name:        "single key",
			keyvals:     []any{"lonely"},
			wantLevel:   "info",
			wantMessage: "lonely=(missing)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, buf := newJSONLogger(hclog.Trace)
			if err := Adapt(l).Log(tt.keyvals...); err != nil {
				t.Fatalf("Log error = %v", err)
			}
			lines := parseLines(t, buf)
			if len(lines) != 1 {
				t.Fatalf("got %d lines, want 1:\n%s", len(lines), buf.String())
			}
			line := lines[0]
			if line["@level"] != tt.wantLevel {
				t.Errorf("@level = %#v, want %q (line %v)", line["@level"], tt.wantLevel, line)
			}
			if line["@message"] != tt.wantMessage {
				t.Errorf("@message = %#v, want %q (line %v)", line["@message"], tt.wantMessage, line)
			}
			for k, want := range tt.wantFields {
				if line[k] != want {
					t.Errorf("field %q = %#v, want %#v (line %v)", k, line[k], want, line)
				}
			}
			for _, k := range tt.wantAbsent {
				if _, ok := line[k]; ok {
					t.Errorf("field %q present, want it only in the message (line %v)", k, line)
				}
			}
		})
	}
}

func TestAdaptNoKeyvals(t *testing.T) {
	t.Parallel()
	l, buf := newJSONLogger(hclog.Trace)
	if err := Adapt(l).Log(); err != nil {
		t.Fatalf("Log() error = %v", err)
	}
	if lines := parseLines(t, buf); len(lines) != 1 || lines[0]["@level"] != "info" {
		t.Errorf("Log() wrote %v, want one info line", lines)
	}
}

func TestAdaptRespectsLevel(t *testing.T) {
	t.Parallel()
	l, buf := newJSONLogger(hclog.Error)
	kit := Adapt(l)
	_ = kit.Log("msg", "routine")
	_ = kit.Log("msg", "bad", "err", "boom")
	lines := parseLines(t, buf)
	if len(lines) != 1 || lines[0]["@message"] != "bad" {
		t.Errorf("at Error level got %v, want only the err line", lines)
	}
}

func TestAdaptDoesNotModifyCallerSlice(t *testing.T) {
	t.Parallel()
	l, _ := newJSONLogger(hclog.Trace)
	backing := []any{"msg", "m", "odd", "sentinel"}
	_ = Adapt(l).Log(backing[:3]...)
	if backing[3] != "sentinel" {
		t.Errorf("Log overwrote the caller's backing array: %v", backing)
	}
}

func TestNewRoot(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := NewRoot("stringsvc", &buf, "warn", true)
	l.Info("hidden")
	l.Warn("shown", "k", "v")
	lines := parseLines(t, &buf)
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1 (info is below warn):\n%s", len(lines), buf.String())
	}
	if lines[0]["@module"] != "stringsvc" || lines[0]["@message"] != "shown" || lines[0]["@level"] != "warn" || lines[0]["k"] != "v" {
		t.Errorf("line = %v, want module stringsvc, warn, shown, k=v", lines[0])
	}

	buf.Reset()
	NewRoot("gw", &buf, "info", false).Info("plain", "k", "v")
	if s := buf.String(); json.Valid(bytes.TrimSpace(buf.Bytes())) || !strings.Contains(s, "[INFO]") || !strings.Contains(s, "gw: plain") {
		t.Errorf("non-JSON output = %q, want hclog's text format", s)
	}
}
