// Package hostile is the table of hostile requests that stringsvc and the gateway must both refuse
// with the contract's 4xx JSON errors, and the check that sends them. It is shared by the two
// binaries' tests, like net/http/httptest: a test helper, never imported by a binary.
package hostile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/example/gokit-nomad/stringsvc/contract"
)

// Case is one hostile request, relative to the base URL of the service's routes.
type Case struct {
	Name        string
	Method      string
	Path        string
	ContentType string
	Body        []byte
	Want        int // the status it must be answered with
}

// Cases returns the hostile requests: malformed, truncated and mistyped JSON, bodies over the
// limit, deep nesting, invalid UTF-8, other media types, other methods, unknown paths.
func Cases() []Case {
	post := func(name, body string, want int) Case {
		return Case{Name: name, Method: http.MethodPost, Path: contract.UppercasePath, Body: []byte(body), Want: want}
	}
	huge := func(n int) string { return `{"s":"` + strings.Repeat("a", n) + `"}` }
	return []Case{
		post("malformed JSON", `{"s":`, http.StatusBadRequest),
		post("truncated JSON", `{"s":"fo`, http.StatusBadRequest),
		post("not JSON", `s=foo`, http.StatusBadRequest),
		post("wrong type: number", `{"s":5}`, http.StatusBadRequest),
		post("wrong type: array", `{"s":["a"]}`, http.StatusBadRequest),
		post("top-level array", `["foo"]`, http.StatusBadRequest),
		post("null", `null`, http.StatusBadRequest),
		post("empty body", ``, http.StatusBadRequest),
		post("empty string", `{"s":""}`, http.StatusBadRequest),
		post("trailing garbage", `{"s":"foo"} x`, http.StatusBadRequest),
		post("deep nesting", `{"s":`+strings.Repeat("[", 50000)+strings.Repeat("]", 50000)+`}`, http.StatusBadRequest),
		post("invalid UTF-8", "{\"s\":\"caf\xe9\"}", http.StatusBadRequest),
		post("huge string, just over the limit", huge(contract.MaxBodyBytes), http.StatusRequestEntityTooLarge),
		post("huge string, 3 MiB", huge(3<<20), http.StatusRequestEntityTooLarge),
		{Name: "XML", Method: http.MethodPost, Path: contract.UppercasePath, ContentType: "application/xml",
			Body: []byte(`<s>foo</s>`), Want: http.StatusUnsupportedMediaType},
		{Name: "text/plain with a JSON body", Method: http.MethodPost, Path: contract.CountPath, ContentType: "text/plain",
			Body: []byte(`{"s":"foo"}`), Want: http.StatusUnsupportedMediaType},
		{Name: "multipart form", Method: http.MethodPost, Path: contract.CountPath, ContentType: "multipart/form-data; boundary=x",
			Body: []byte("--x\r\nContent-Disposition: form-data; name=\"s\"\r\n\r\nfoo\r\n--x--\r\n"), Want: http.StatusUnsupportedMediaType},
		{Name: "GET", Method: http.MethodGet, Path: contract.UppercasePath, Want: http.StatusMethodNotAllowed},
		{Name: "PUT", Method: http.MethodPut, Path: contract.CountPath, Body: []byte(`{"s":"foo"}`), Want: http.StatusMethodNotAllowed},
		{Name: "DELETE", Method: http.MethodDelete, Path: contract.CountPath, Want: http.StatusMethodNotAllowed},
		{Name: "unknown path", Method: http.MethodPost, Path: "/nope", Body: []byte(`{"s":"foo"}`), Want: http.StatusNotFound},
		{Name: "below a route", Method: http.MethodPost, Path: contract.UppercasePath + "/x", Body: []byte(`{"s":"foo"}`), Want: http.StatusNotFound},
	}
}

// Check sends every case to base + Case.Path, each on a fresh connection, and fails t for each
// answer that is not the case's status with a JSON contract.ErrorBody. base is where the service's
// routes are: an instance's root, or the gateway's /stringsvc.
//
// Then it looks for goroutines left behind: it sends every case a second time and waits until the
// process runs no more goroutines than between the two rounds. The first round lets pools and
// lazily started goroutines (fasthttp's idle workers, which it stops only after 10 s idle) settle;
// a request that leaves a goroutine behind leaves another one in the second round.
func Check(t testing.TB, base string) {
	t.Helper()
	transport := &http.Transport{DisableKeepAlives: true}
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	for _, c := range Cases() {
		if problem := send(client, base, c); problem != "" {
			t.Errorf("%s: %s", c.Name, problem)
		}
	}
	before := runtime.NumGoroutine()
	for _, c := range Cases() {
		_ = send(client, base, c)
	}
	deadline := time.Now().Add(25 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 256<<10)
		t.Errorf("%d goroutines after a second round of hostile requests, %d before it:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// send sends c and returns what is wrong with the answer, or "".
func send(client *http.Client, base string, c Case) string {
	req, err := http.NewRequest(c.Method, base+c.Path, bytes.NewReader(c.Body))
	if err != nil {
		return err.Error()
	}
	if c.ContentType != "" {
		req.Header.Set("Content-Type", c.ContentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	var answer contract.ErrorBody
	switch {
	case err != nil:
		return "reading the answer: " + err.Error()
	case resp.StatusCode != c.Want:
		return fmt.Sprintf("answered %d %.200s, want %d", resp.StatusCode, body, c.Want)
	case resp.Header.Get("Content-Type") != contract.JSONContentType:
		return fmt.Sprintf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), contract.JSONContentType)
	case json.Unmarshal(body, &answer) != nil || answer.Err == "":
		return fmt.Sprintf("body %.200q is not a JSON error", body)
	}
	return ""
}
