package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type decodeFunc func(context.Context, *http.Request) (any, error)

// jsonOfSize returns {"s":"aaa…"} exactly n bytes long (n >= 8).
func jsonOfSize(n int) string {
	const frame = `{"s":""}`
	return `{"s":"` + strings.Repeat("a", n-len(frame)) + `"}`
}

func TestDecodeRequestErrors(t *testing.T) {
	t.Parallel()
	decoders := map[string]decodeFunc{
		"uppercase": DecodeUppercaseRequest,
		"count":     DecodeCountRequest,
	}
	tests := []struct {
		name        string
		body        string
		contentType string
		wantStatus  int
	}{
		{name: "malformed JSON", body: `{"s":`, wantStatus: http.StatusBadRequest},
		{name: "invalid UTF-8", body: "{\"s\":\"\xff\xfe\"}", wantStatus: http.StatusBadRequest},
		{name: "deep nesting", body: strings.Repeat("[", 100000) + strings.Repeat("]", 100000), wantStatus: http.StatusBadRequest},
		{name: "null", body: `null`, wantStatus: http.StatusBadRequest},
		{name: "number", body: ` 42`, wantStatus: http.StatusBadRequest},
		{name: "form content type with a form body", body: `s=foo`, contentType: "application/x-www-form-urlencoded", wantStatus: http.StatusBadRequest},
		{name: "XML", body: `<s>foo</s>`, contentType: "application/xml", wantStatus: http.StatusUnsupportedMediaType},
		{name: "text with a JSON body", body: `{"s":"foo"}`, contentType: "text/plain", wantStatus: http.StatusUnsupportedMediaType},
		{name: "multipart", body: `{"s":"foo"}`, contentType: "multipart/form-data; boundary=x", wantStatus: http.StatusUnsupportedMediaType},
		{name: "malformed content type", body: `{"s":"foo"}`, contentType: "application/json; =", wantStatus: http.StatusUnsupportedMediaType},
		{name: "not JSON", body: `hello`, wantStatus: http.StatusBadRequest},
		{name: "wrong type", body: `{"s":5}`, wantStatus: http.StatusBadRequest},
		{name: "array", body: `["foo"]`, wantStatus: http.StatusBadRequest},
		{name: "empty body", body: ``, wantStatus: http.StatusBadRequest},
		{name: "trailing garbage", body: `{"s":"foo"}garbage`, wantStatus: http.StatusBadRequest},
		{name: "two objects", body: `{"s":"foo"}{"s":"bar"}`, wantStatus: http.StatusBadRequest},
		{name: "one byte over limit", body: jsonOfSize(MaxBodyBytes + 1), wantStatus: http.StatusRequestEntityTooLarge},
		{name: "far over limit", body: jsonOfSize(2 * MaxBodyBytes), wantStatus: http.StatusRequestEntityTooLarge},
	}
	for dname, decode := range decoders {
		for _, tt := range tests {
			t.Run(dname+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
				if tt.contentType != "" {
					r.Header.Set("Content-Type", tt.contentType)
				}
				got, err := decode(context.Background(), r)
				if err == nil {
					t.Fatalf("decode(%.40q) = %#v, nil; want an error", tt.body, got)
				}
				var reqErr *RequestError
				if !errors.As(err, &reqErr) {
					t.Fatalf("decode error = %T %v, want *RequestError", err, err)
				}
				if reqErr.Status != tt.wantStatus || reqErr.StatusCode() != tt.wantStatus {
					t.Errorf("status = %d (StatusCode %d), want %d", reqErr.Status, reqErr.StatusCode(), tt.wantStatus)
				}
				if reqErr.Error() == "" || reqErr.Error() != reqErr.Msg {
					t.Errorf("Error() = %q, want the non-empty Msg %q", reqErr.Error(), reqErr.Msg)
				}
			})
		}
	}
}

func TestDecodeRequestReadError(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodPost, "/", errReader{})
	_, err := DecodeUppercaseRequest(context.Background(), r)
	var reqErr *RequestError
	if !errors.As(err, &reqErr) || reqErr.Status != http.StatusBadRequest {
		t.Fatalf("error = %v, want *RequestError 400", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestDecodeRequestValid(t *testing.T) {
	t.Parallel()
	maxBody := jsonOfSize(MaxBodyBytes)
	if len(maxBody) != MaxBodyBytes {
		t.Fatalf("test body is %d bytes, want %d", len(maxBody), MaxBodyBytes)
	}
	maxS := maxBody[len(`{"s":"`) : len(maxBody)-len(`"}`)]

	tests := []struct {
		name        string
		body        string
		contentType string
		wantS       string
	}{
		{name: "simple", body: `{"s":"foo"}`, wantS: "foo"},
		{name: "JSON content type", body: `{"s":"foo"}`, contentType: JSONContentType, wantS: "foo"},
		{name: "+json content type", body: `{"s":"foo"}`, contentType: "application/vnd.api+json", wantS: "foo"},
		{name: "curl -d's content type", body: `{"s":"foo"}`, contentType: "application/x-www-form-urlencoded", wantS: "foo"},
		{name: "unknown fields ignored", body: `{"s":"foo","t":[1,2]}`, wantS: "foo"},
		{name: "unicode", body: `{"s":"héllo"}`, wantS: "héllo"},
		{name: "whitespace around", body: " \n{\"s\": \"foo\"}\n ", wantS: "foo"},
		{name: "exactly MaxBodyBytes", body: maxBody, wantS: maxS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			request := func() *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
				if tt.contentType != "" {
					r.Header.Set("Content-Type", tt.contentType)
				}
				return r
			}
			got, err := DecodeUppercaseRequest(context.Background(), request())
			if err != nil {
				t.Fatalf("DecodeUppercaseRequest error = %v", err)
			}
			if req, ok := got.(UppercaseRequest); !ok || req.S != tt.wantS {
				t.Errorf("DecodeUppercaseRequest = %#v, want UppercaseRequest{S: %.20q…}", got, tt.wantS)
			}

			got, err = DecodeCountRequest(context.Background(), request())
			if err != nil {
				t.Fatalf("DecodeCountRequest error = %v", err)
			}
			if req, ok := got.(CountRequest); !ok || req.S != tt.wantS {
				t.Errorf("DecodeCountRequest = %#v, want CountRequest{S: %.20q…}", got, tt.wantS)
			}
		})
	}
}

func TestEncodeResponseSuccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		response any
		wantBody string
	}{
		{name: "uppercase", response: UppercaseResponse{V: "FOO"}, wantBody: `{"v":"FOO"}`},
		{name: "count", response: CountResponse{V: 5}, wantBody: `{"v":5}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			called := false
			encode := EncodeResponse(func(context.Context, error, http.ResponseWriter) { called = true })
			w := httptest.NewRecorder()
			if err := encode(context.Background(), w, tt.response); err != nil {
				t.Fatalf("encode error = %v", err)
			}
			if called {
				t.Error("error encoder called for a successful response")
			}
			if w.Code != http.StatusOK {
				t.Errorf("status = %d, want 200", w.Code)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if got := w.Body.String(); got != tt.wantBody {
				t.Errorf("body = %s, want %s", got, tt.wantBody)
			}
		})
	}
}

func TestEncodeResponseFailedGoesToErrorEncoder(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	for _, response := range []any{UppercaseResponse{V: "ignored", Err: boom}, CountResponse{V: 7, Err: boom}} {
		var gotErr error
		encode := EncodeResponse(func(_ context.Context, err error, w http.ResponseWriter) {
			gotErr = err
			WriteError(w, http.StatusTeapot, err)
		})
		w := httptest.NewRecorder()
		if err := encode(context.Background(), w, response); err != nil {
			t.Fatalf("encode(%T) error = %v", response, err)
		}
		if gotErr != boom {
			t.Errorf("encode(%T): error encoder got %v, want %v", response, gotErr, boom)
		}
		if w.Code != http.StatusTeapot {
			t.Errorf("encode(%T): status = %d, want the error encoder's 418", response, w.Code)
		}
		var body ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Err != "boom" {
			t.Errorf("encode(%T): body = %s, want {\"err\":\"boom\"}", response, w.Body.String())
		}
	}
}

func TestEncodeResponseUnmarshalable(t *testing.T) {
	t.Parallel()
	encode := EncodeResponse(func(context.Context, error, http.ResponseWriter) { t.Error("error encoder called") })
	if err := encode(context.Background(), httptest.NewRecorder(), func() {}); err == nil {
		t.Error("encoding a func succeeded, want an error")
	}
}

func TestWriteError(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	WriteError(w, http.StatusBadGateway, errors.New("no instance"))
	if w.Code != http.StatusBadGateway {
		t.Errorf("status = %d, want 502", w.Code)
	}
	if !bytes.Equal(bytes.TrimSpace(w.Body.Bytes()), []byte(`{"err":"no instance"}`)) {
		t.Errorf("body = %s, want {\"err\":\"no instance\"}", w.Body.String())
	}
}
