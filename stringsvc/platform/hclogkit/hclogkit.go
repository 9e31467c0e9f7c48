// Package hclogkit puts go-kit's log.Logger interface (needed by go-kit's sd, lb and transport
// packages) on top of go-hclog, so that every line of both binaries goes through one hclog logger,
// and builds that root logger from the shared -log-json / -log-level settings.
package hclogkit

import (
	"fmt"
	"io"

	kitlog "github.com/go-kit/log"
	"github.com/hashicorp/go-hclog"
)

// NewRoot returns a process's root logger writing to w, as JSON when json is set.
func NewRoot(name string, w io.Writer, level string, json bool) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Output:     w,
		Level:      hclog.LevelFromString(level),
		JSONFormat: json,
	})
}

// Adapt returns a go-kit logger that writes to l. A line with an "err" key is logged at Error
// level, anything else at Info. The message is the first of these values the line has: "msg"
// (or "message"), "action" (go-kit's registrar: "register"), "err"; else the first key=value pair.
func Adapt(l hclog.Logger) kitlog.Logger { return adapter{l} }

type adapter struct{ l hclog.Logger }

// messageKeys are the keys whose value becomes the message, in order of preference.
var messageKeys = []string{"msg", "message", "action", "err", "error"}

func (a adapter) Log(keyvals ...any) error {
	if len(keyvals)%2 == 1 {
		// Full slice expression: append must copy, not write into the caller's backing array.
		keyvals = append(keyvals[:len(keyvals):len(keyvals)], "(missing)")
	}
	level := hclog.Info
	if keyIndex(keyvals, "err") >= 0 || keyIndex(keyvals, "error") >= 0 {
		level = hclog.Error
	}
	msgAt := -1
	for _, key := range messageKeys {
		if msgAt = keyIndex(keyvals, key); msgAt >= 0 {
			break
		}
	}
	msg := ""
	switch {
	case msgAt >= 0:
		msg = fmt.Sprint(keyvals[msgAt+1])
	case len(keyvals) > 0:
		msgAt, msg = 0, fmt.Sprintf("%v=%v", keyvals[0], keyvals[1])
	}
	args := make([]any, 0, len(keyvals))
	for i := 0; i < len(keyvals); i += 2 {
		if i != msgAt {
			args = append(args, fmt.Sprint(keyvals[i]), keyvals[i+1])
		}
	}
	a.l.Log(level, msg, args...)
	return nil
}

// keyIndex returns the index of key among the keys of keyvals, or -1.
func keyIndex(keyvals []any, key string) int {
	for i := 0; i < len(keyvals); i += 2 {
		if fmt.Sprint(keyvals[i]) == key {
			return i
		}
	}
	return -1
}
