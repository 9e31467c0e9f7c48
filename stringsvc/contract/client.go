package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// maxErrorBodyBytes bounds how much of an error answer a client reads.
const maxErrorBodyBytes = 64 << 10

// StatusError is a non-200 answer from a stringsvc instance. Body is the instance's JSON error
// body as received, so a gateway can pass a 4xx through unchanged.
type StatusError struct {
	Status int
	Body   []byte
}

func (e *StatusError) Error() string {
	var body ErrorBody
	if json.Unmarshal(e.Body, &body) == nil && body.Err != "" {
		return fmt.Sprintf("instance answered %d: %s", e.Status, body.Err)
	}
	return fmt.Sprintf("instance answered %d", e.Status)
}

// StatusCode implements go-kit's httptransport.StatusCoder.
func (e *StatusError) StatusCode() int { return e.Status }

// IsClientError reports whether the instance refused the request itself (4xx): retrying it
// elsewhere cannot help, and it says nothing about the instance's health.
func (e *StatusError) IsClientError() bool { return e.Status >= 400 && e.Status < 500 }

// EncodeRequest is a go-kit EncodeRequestFunc that sends request as a JSON body.
func EncodeRequest(_ context.Context, r *http.Request, request any) error {
	body, err := json.Marshal(request)
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", JSONContentType)
	r.ContentLength = int64(len(body))
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return nil
}

// DecodeUppercaseResponse is a go-kit DecodeResponseFunc for UppercasePath.
func DecodeUppercaseResponse(_ context.Context, r *http.Response) (any, error) {
	var resp UppercaseResponse
	if err := decodeResponse(r, &resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// DecodeCountResponse is a go-kit DecodeResponseFunc for CountPath.
func DecodeCountResponse(_ context.Context, r *http.Response) (any, error) {
	var resp CountResponse
	if err := decodeResponse(r, &resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// decodeResponse reads the whole body (so the connection can be reused) and decodes a 200 into
// v; any other status becomes a *StatusError.
func decodeResponse(r *http.Response, v any) error {
	if r.StatusCode != http.StatusOK {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxErrorBodyBytes))
		if err != nil {
			return fmt.Errorf("reading %d answer: %w", r.StatusCode, err)
		}
		return &StatusError{Status: r.StatusCode, Body: body}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return fmt.Errorf("reading answer: %w", err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("malformed answer from instance: %w", err)
	}
	return nil
}
