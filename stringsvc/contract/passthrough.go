package contract

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// Passthrough is a request or answer body carried as bytes, unchanged. A gateway forwards
// Passthrough values instead of decoding a request and encoding it again (and the same for the
// answer): every route of the service then costs one copy of the body, and the service stays the
// only place that reads the JSON — a malformed request gets the service's own 400, passed through.
// The server side is here (go-kit codecs); the gateway's client side is package gateway/upstream.
type Passthrough struct {
	Body []byte
}

// DecodePassthroughRequest is a go-kit DecodeRequestFunc that reads the request body as it is:
// 413 when it is larger than MaxBodyBytes.
func DecodePassthroughRequest(_ context.Context, r *http.Request) (any, error) {
	body, err := readBody(r.Body, r.ContentLength)
	if err != nil {
		return nil, &RequestError{Status: http.StatusBadRequest, Msg: "reading request body: " + err.Error()}
	}
	if len(body) > MaxBodyBytes {
		return nil, &RequestError{Status: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("request body is larger than %d bytes", MaxBodyBytes)}
	}
	return Passthrough{Body: body}, nil
}

// EncodePassthroughResponse is a go-kit EncodeResponseFunc that writes a Passthrough answer as a
// 200 JSON body.
func EncodePassthroughResponse(_ context.Context, w http.ResponseWriter, response any) error {
	p, ok := response.(Passthrough)
	if !ok {
		return fmt.Errorf("contract: EncodePassthroughResponse got %T, want Passthrough", response)
	}
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(p.Body)
	return err
}

// readBody reads a body of at most MaxBodyBytes+1 bytes (so that callers can tell "too large"),
// in one allocation of the right size when the length is known.
func readBody(body io.Reader, length int64) ([]byte, error) {
	if length < 0 || length > MaxBodyBytes {
		return io.ReadAll(io.LimitReader(body, MaxBodyBytes+1))
	}
	buf := make([]byte, length)
	if _, err := io.ReadFull(body, buf); err != nil {
		return nil, err
	}
	return buf, nil
}
