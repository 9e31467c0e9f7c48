package contract

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"unicode/utf8"
)

// The fuzz targets cover every decoder of the contract. The seeds below are the committed corpus;
// scripts/test.sh runs each target for a few seconds (FUZZTIME), `go test -fuzz` for longer.

// requestSeeds are bodies and Content-Types of good and hostile requests.
var requestSeeds = []struct{ body, contentType string }{
	{`{"s":"foo"}`, ""},
	{`{"s":"héllo wörld"}`, JSONContentType},
	{`{"s":"foo","t":[1,{"u":null}]}`, "application/x-www-form-urlencoded"},
	{`{"s":`, ""},
	{"{\"s\":\"\xff\xfe\"}", ""},
	{`null`, ""},
	{`{"s":5}`, "application/vnd.api+json"},
	{`[[[[[[[[[[]]]]]]]]]]`, ""},
	{`{"s":"foo"}{"s":"bar"}`, ""},
	{`{"s":"foo"}`, "text/plain; charset=utf-8"},
	{`{"s":"\u0000\ud800"}`, "application/json; =broken"},
}

func FuzzDecodeUppercaseRequest(f *testing.F) {
	fuzzRequestDecoder(f, DecodeUppercaseRequest, func(v any) (string, bool) {
		r, ok := v.(UppercaseRequest)
		return r.S, ok
	})
}

func FuzzDecodeCountRequest(f *testing.F) {
	fuzzRequestDecoder(f, DecodeCountRequest, func(v any) (string, bool) {
		r, ok := v.(CountRequest)
		return r.S, ok
	})
}

// fuzzRequestDecoder checks that, whatever the body and Content-Type, decode never panics and
// returns either a request of its type whose string is valid UTF-8, from a body within
// MaxBodyBytes, or a *RequestError with a 4xx status and a message.
func fuzzRequestDecoder(f *testing.F, decode decodeFunc, str func(any) (string, bool)) {
	for _, seed := range requestSeeds {
		f.Add([]byte(seed.body), seed.contentType)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		got, err := decode(context.Background(), r)
		if err != nil {
			var reqErr *RequestError
			if !errors.As(err, &reqErr) || reqErr.Status < 400 || reqErr.Status > 499 || reqErr.Msg == "" {
				t.Fatalf("error %T %v: want a *RequestError with a 4xx status and a message", err, err)
			}
			return
		}
		s, ok := str(got)
		switch {
		case !ok:
			t.Fatalf("decoded %T, want the route's request type", got)
		case !utf8.ValidString(s):
			t.Fatalf("decoded a string that is not valid UTF-8: %q", s)
		case len(body) > MaxBodyBytes:
			t.Fatalf("accepted a body of %d bytes", len(body))
		}
	})
}

// FuzzDecodeResponse checks the client side: whatever status and body an instance answers, the
// decoders never panic; a 200 gives the route's response type or an error, any other status a
// *StatusError carrying that status and at most maxErrorBodyBytes of the body, whose message can
// always be built.
func FuzzDecodeResponse(f *testing.F) {
	for _, seed := range []struct {
		status int
		body   string
	}{
		{200, `{"v":"FOO"}`}, {200, `{"v":3}`}, {200, `{"v":`}, {200, "\xff"},
		{400, `{"err":"empty string"}`}, {404, `not json`}, {503, ``}, {301, `{"err":5}`},
	} {
		f.Add(seed.status, []byte(seed.body))
	}
	decoders := map[string]func(context.Context, *http.Response) (any, error){
		"uppercase": DecodeUppercaseResponse,
		"count":     DecodeCountResponse,
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		for name, decode := range decoders {
			resp := &http.Response{StatusCode: status, Body: io.NopCloser(bytes.NewReader(body))}
			got, err := decode(context.Background(), resp)
			if status != http.StatusOK {
				var statusErr *StatusError
				if !errors.As(err, &statusErr) || statusErr.Status != status || len(statusErr.Body) > maxErrorBodyBytes {
					t.Fatalf("%s: status %d gave %v, %v: want a *StatusError with that status", name, status, got, err)
				}
				_ = statusErr.Error()
				continue
			}
			if err != nil {
				continue // a malformed 200: an error is the answer
			}
			_, isUppercase := got.(UppercaseResponse)
			_, isCount := got.(CountResponse)
			if (name == "uppercase") != isUppercase || (name == "count") != isCount {
				t.Fatalf("%s: decoded %T", name, got)
			}
		}
	})
}
