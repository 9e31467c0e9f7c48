package transport

import (
	"net/http/httptest"
	"testing"

	kitlog "github.com/go-kit/log"

	"github.com/example/gokit-nomad/stringsvc/contract/hostile"
	"github.com/example/gokit-nomad/stringsvc/endpoints"
	"github.com/example/gokit-nomad/stringsvc/platform/linger"
	"github.com/example/gokit-nomad/stringsvc/service"
)

// TestHostileRequests sends the shared hostile requests straight at the service's HTTP handler:
// each gets its 4xx JSON error, nothing is a 5xx, nothing stays running.
func TestHostileRequests(t *testing.T) {
	server := httptest.NewUnstartedServer(NewHTTPHandler(endpoints.New(service.New()), kitlog.NewNopLogger()))
	server.Listener = linger.OnClose(server.Listener) // as cmd/stringsvc serves
	server.Start()
	defer server.Close()
	hostile.Check(t, server.URL)
}
