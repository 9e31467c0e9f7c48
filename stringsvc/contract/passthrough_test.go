package contract

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDecodePassthroughRequestKeepsTheBytes(t *testing.T) {
	for name, body := range map[string]string{
		"valid":             `{"s":"foo"}`,
		"malformed":         `{"s":`, // the gateway does not judge JSON: the instance answers 400
		"exactly the limit": strings.Repeat("x", MaxBodyBytes),
	} {
		for _, chunked := range []bool{false, true} {
			r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(body))
			if chunked {
				r.ContentLength = -1 // length unknown, as with Transfer-Encoding: chunked
			}
			got, err := DecodePassthroughRequest(context.Background(), r)
			if err != nil || string(got.(Passthrough).Body) != body {
				t.Errorf("%s (chunked %v): got %v, want the body unchanged", name, chunked, err)
			}
		}
	}
}

func TestDecodePassthroughRequestRefusesOversizedBodies(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(strings.Repeat("x", MaxBodyBytes+1)))
		if chunked {
			r.ContentLength = -1
		}
		_, err := DecodePassthroughRequest(context.Background(), r)
		var re *RequestError
		if !errors.As(err, &re) || re.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked %v: got %v, want a 413 RequestError", chunked, err)
		}
	}
}

func TestDecodePassthroughRequestShortBodyIsA400(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(`{"s"`))
	r.ContentLength = 100 // the client promised more than it sent
	_, err := DecodePassthroughRequest(context.Background(), r)
	var re *RequestError
	if !errors.As(err, &re) || re.Status != http.StatusBadRequest {
		t.Fatalf("got %v, want a 400 RequestError", err)
	}
}

func TestEncodePassthroughResponseWritesTheBytesAsJSON(t *testing.T) {
	w := httptest.NewRecorder()
	if err := EncodePassthroughResponse(context.Background(), w, Passthrough{Body: []byte(`{"v":3}`)}); err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusOK || w.Body.String() != `{"v":3}` || w.Header().Get("Content-Type") != JSONContentType {
		t.Fatalf("got %d %q (%s)", w.Code, w.Body, w.Header().Get("Content-Type"))
	}
	if err := EncodePassthroughResponse(context.Background(), httptest.NewRecorder(), CountResponse{V: 3}); err == nil {
		t.Fatal("a typed response: want an error")
	}
}
