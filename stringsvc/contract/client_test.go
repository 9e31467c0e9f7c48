package contract

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestEncodeRequest(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodPost, "/uppercase", nil)
	if err := EncodeRequest(context.Background(), r, UppercaseRequest{S: "héllo"}); err != nil {
		t.Fatalf("EncodeRequest error = %v", err)
	}
	const want = `{"s":"héllo"}`
	if r.ContentLength != int64(len(want)) {
		t.Errorf("ContentLength = %d, want %d", r.ContentLength, len(want))
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil || string(body) != want {
		t.Errorf("body = %q, %v; want %q", body, err, want)
	}
	if r.GetBody == nil {
		t.Fatal("GetBody is nil; a redirected or retried request could not resend the body")
	}
	again, err := r.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := io.ReadAll(again); string(body) != want {
		t.Errorf("GetBody body = %q, want %q", body, want)
	}
}

func TestEncodeRequestUnmarshalable(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	if err := EncodeRequest(context.Background(), r, make(chan int)); err == nil {
		t.Error("EncodeRequest(chan) succeeded, want an error")
	}
}

func response(status int, body string) *http.Response {
	return &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}}
}

func TestDecodeUppercaseResponseOK(t *testing.T) {
	t.Parallel()
	got, err := DecodeUppercaseResponse(context.Background(), response(http.StatusOK, `{"v":"FOO"}`))
	if err != nil {
		t.Fatalf("error = %v", err)
	}
	if resp, ok := got.(UppercaseResponse); !ok || resp.V != "FOO" || resp.Err != nil {
		t.Errorf("DecodeUppercaseResponse = %#v, want UppercaseResponse{V: \"FOO\"}", got)
	}
}

func TestDecodeCountResponseOK(t *testing.T) {
	t.Parallel()
	got, err := DecodeCountResponse(context.Background(), response(http.StatusOK, `{"v":5}`))
	if err != nil {
		t.Fatalf("error = %v", err)
	}
	if resp, ok := got.(CountResponse); !ok || resp.V != 5 || resp.Err != nil {
		t.Errorf("DecodeCountResponse = %#v, want CountResponse{V: 5}", got)
	}
}

func TestDecodeResponseStatusErrors(t *testing.T) {
	t.Parallel()
	decoders := map[string]func(context.Context, *http.Response) (any, error){
		"uppercase": DecodeUppercaseResponse,
		"count":     DecodeCountResponse,
	}
	tests := []struct {
		status      int
		body        string
		clientError bool
	}{
		{status: http.StatusBadRequest, body: `{"err":"empty string"}`, clientError: true},
		{status: http.StatusNotFound, body: `{"err":"no route for /x"}`, clientError: true},
		{status: http.StatusRequestEntityTooLarge, body: "{\"err\": \"too big\"}\n", clientError: true},
		{status: http.StatusInternalServerError, body: `{"err":"boom"}`, clientError: false},
		{status: http.StatusBadGateway, body: `not json at all`, clientError: false},
		{status: http.StatusServiceUnavailable, body: ``, clientError: false},
		{status: http.StatusNoContent, body: ``, clientError: false}, // not 200 either
	}
	for dname, decode := range decoders {
		for _, tt := range tests {
			t.Run(dname+"/"+http.StatusText(tt.status), func(t *testing.T) {
				t.Parallel()
				got, err := decode(context.Background(), response(tt.status, tt.body))
				if err == nil {
					t.Fatalf("decode = %#v, nil; want a *StatusError", got)
				}
				var se *StatusError
				if !errors.As(err, &se) {
					t.Fatalf("error = %T %v, want *StatusError", err, err)
				}
				if se.Status != tt.status || se.StatusCode() != tt.status {
					t.Errorf("Status = %d (StatusCode %d), want %d", se.Status, se.StatusCode(), tt.status)
				}
				if string(se.Body) != tt.body {
					t.Errorf("Body = %q, want it unchanged: %q", se.Body, tt.body)
				}
				if se.IsClientError() != tt.clientError {
					t.Errorf("IsClientError() = %v, want %v", se.IsClientError(), tt.clientError)
				}
			})
		}
	}
}

func TestDecodeResponseMalformed200(t *testing.T) {
	t.Parallel()
	for _, body := range []string{``, `{"v":`, `{"v":5}`, `<html>`} {
		got, err := DecodeUppercaseResponse(context.Background(), response(http.StatusOK, body))
		if err == nil {
			t.Errorf("DecodeUppercaseResponse(200 %q) = %#v, nil; want an error", body, got)
			continue
		}
		var se *StatusError
		if errors.As(err, &se) {
			t.Errorf("DecodeUppercaseResponse(200 %q) error is a *StatusError, want a decoding error", body)
		}
	}
	if got, err := DecodeCountResponse(context.Background(), response(http.StatusOK, `{"v":"five"}`)); err == nil {
		t.Errorf("DecodeCountResponse(200 {\"v\":\"five\"}) = %#v, nil; want an error", got)
	}
}

func TestStatusErrorError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *StatusError
		want string
	}{
		{name: "with err body", err: &StatusError{Status: 400, Body: []byte(`{"err":"empty string"}`)}, want: "instance answered 400: empty string"},
		{name: "empty err", err: &StatusError{Status: 500, Body: []byte(`{"err":""}`)}, want: "instance answered 500"},
		{name: "not JSON", err: &StatusError{Status: 502, Body: []byte(`Bad Gateway`)}, want: "instance answered 502"},
		{name: "no body", err: &StatusError{Status: 503}, want: "instance answered 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStatusErrorIsClientError(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]bool{399: false, 400: true, 404: true, 499: true, 500: false, 503: false} {
		if got := (&StatusError{Status: status}).IsClientError(); got != want {
			t.Errorf("StatusError{%d}.IsClientError() = %v, want %v", status, got, want)
		}
	}
}

// The error body a client receives must be the bytes the instance sent, so a gateway can pass
// it through; check the round trip through WriteError too.
func TestStatusErrorBodyFromWriteError(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	WriteError(w, http.StatusBadRequest, errors.New("empty string"))
	sent := w.Body.String()

	_, err := DecodeUppercaseResponse(context.Background(), w.Result())
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("error = %v, want *StatusError", err)
	}
	if string(se.Body) != sent {
		t.Errorf("Body = %q, want %q", se.Body, sent)
	}
	var body ErrorBody
	if err := json.Unmarshal(se.Body, &body); err != nil || body.Err != "empty string" {
		t.Errorf("Body %q does not decode to ErrorBody{empty string}", se.Body)
	}
}
