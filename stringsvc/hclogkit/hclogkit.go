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
// level, anything else at Info; the message is the "msg" value when there is one, else the
// first key/value pair ("action=register").
func Adapt(l hclog.Logger) kitlog.Logger { return adapter{l} }

type adapter struct{ l hclog.Logger }

func (a adapter) Log(keyvals ...any) error {
	if len(keyvals)%2 == 1 {
		// Full slice expression: append must copy, not write into the caller's backing array.
		keyvals = append(keyvals[:len(keyvals):len(keyvals)], "(missing)")
	}
	msg, level := "", hclog.Info
	args := make([]any, 0, len(keyvals))
	for i := 0; i < len(keyvals); i += 2 {
		key := fmt.Sprint(keyvals[i])
		switch key {
		case "msg", "message":
			msg = fmt.Sprint(keyvals[i+1])
			continue
		case "err", "error":
			level = hclog.Error
		}
		args = append(args, key, keyvals[i+1])
	}
	if msg == "" && len(args) >= 2 {
		msg, args = fmt.Sprintf("%v=%v", args[0], args[1]), args[2:]
	}
	a.l.Log(level, msg, args...)
	return nil
}
