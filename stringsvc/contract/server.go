package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/go-kit/kit/endpoint"
)

// ErrBodyTooLarge refuses a body over MaxBodyBytes; the gateway answers with it too.
var ErrBodyTooLarge = &RequestError{Status: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("request body is larger than %d bytes", MaxBodyBytes)}

// RequestError is a request the server refuses before it reaches an endpoint.
type RequestError struct {
	Status int
	Msg    string
}

func (e *RequestError) Error() string { return e.Msg }

// StatusCode implements go-kit's httptransport.StatusCoder.
func (e *RequestError) StatusCode() int { return e.Status }

// DecodeUppercaseRequest is a go-kit DecodeRequestFunc for UppercasePath.
func DecodeUppercaseRequest(_ context.Context, r *http.Request) (any, error) {
	var req UppercaseRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	return req, nil
}

// DecodeCountRequest is a go-kit DecodeRequestFunc for CountPath.
func DecodeCountRequest(_ context.Context, r *http.Request) (any, error) {
	var req CountRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	return req, nil
}

// decodeBody reads at most MaxBodyBytes of JSON into v: 415 when the request declares another
// media type (CheckContentType), 413 when the body is larger, 400 when it is not valid UTF-8 (JSON
// decoding would quietly replace the bad bytes) or not one JSON object of the expected shape.
func decodeBody(r *http.Request, v any) error {
	if err := CheckContentType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return &RequestError{Status: http.StatusBadRequest, Msg: "reading request body: " + err.Error()}
	}
	if len(data) > MaxBodyBytes {
		return ErrBodyTooLarge
	}
	if !utf8.Valid(data) {
		return &RequestError{Status: http.StatusBadRequest, Msg: "request body is not valid UTF-8"}
	}
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) > 0 && trimmed[0] != '{' {
		// A JSON null would decode into the zero request without an error.
		return &RequestError{Status: http.StatusBadRequest, Msg: "malformed JSON request: not a JSON object"}
	}
	if err := json.Unmarshal(data, v); err != nil {
		return &RequestError{Status: http.StatusBadRequest, Msg: "malformed JSON request: " + err.Error()}
	}
	return nil
}

// EncodeResponse is a go-kit EncodeResponseFunc: a response whose Failed() is non-nil goes to
// encodeError, anything else is written as JSON with status 200.
func EncodeResponse(encodeError func(context.Context, error, http.ResponseWriter)) func(context.Context, http.ResponseWriter, any) error {
	return func(ctx context.Context, w http.ResponseWriter, response any) error {
		if f, ok := response.(endpoint.Failer); ok && f.Failed() != nil {
			encodeError(ctx, f.Failed(), w)
			return nil
		}
		return WriteJSON(w, http.StatusOK, response)
	}
}

// WriteJSON writes v as the JSON body of an answer with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", JSONContentType)
	w.WriteHeader(status)
	_, err = w.Write(body)
	return err
}

// WriteError writes err as an ErrorBody answer with the given status.
func WriteError(w http.ResponseWriter, status int, err error) {
	_ = WriteJSON(w, status, ErrorBody{Err: err.Error()})
}
