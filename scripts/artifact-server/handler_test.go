package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestHandlerServesFilesOnlyAndReadOnly(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "r1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "r1", "stringsvc"), []byte("binary"), 0o644); err != nil {
		t.Fatal(err)
	}
	server := httptest.NewServer(newHandler(dir, hclog.NewNullLogger()))
	defer server.Close()

	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{http.MethodGet, "/r1/stringsvc", http.StatusOK, "binary"},
		{http.MethodHead, "/r1/stringsvc", http.StatusOK, ""},
		{http.MethodGet, "/r1/missing", http.StatusNotFound, ""},
		{http.MethodGet, "/", http.StatusNotFound, `"no directory listings"`},
		{http.MethodGet, "/r1/", http.StatusNotFound, `"no directory listings"`},
		{http.MethodGet, "/r1", http.StatusNotFound, ""},
		{http.MethodGet, "/../etc/passwd", http.StatusNotFound, ""},
		{http.MethodPut, "/r1/stringsvc", http.StatusMethodNotAllowed, `"only GET and HEAD"`},
		{http.MethodDelete, "/r1/stringsvc", http.StatusMethodNotAllowed, `"only GET and HEAD"`},
	} {
		req, err := http.NewRequest(tc.method, server.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.body) {
			t.Errorf("%s %s: %d %q, want %d with %q", tc.method, tc.path, resp.StatusCode, body, tc.status, tc.body)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "r1", "stringsvc")); err != nil {
		t.Errorf("the file is gone after PUT and DELETE: %v", err)
	}
}
