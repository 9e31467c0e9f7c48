package contract

import (
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// CheckContentType accepts the media type a request declares for its body: JSON
// (application/json or any +json type), none at all, or application/x-www-form-urlencoded — what
// `curl -d` sends unless told otherwise; the body is read as JSON in every case. Any other type is
// a 415, so that a form, a file upload or XML is refused for what it is rather than as bad JSON.
// The service and the gateway both apply it.
func CheckContentType(contentType string) error {
	if contentType == "" {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return &RequestError{Status: http.StatusUnsupportedMediaType, Msg: fmt.Sprintf("malformed Content-Type %q: send application/json", contentType)}
	}
	switch {
	case mediaType == "application/json", strings.HasSuffix(mediaType, "+json"),
		mediaType == "application/x-www-form-urlencoded":
		return nil
	}
	return &RequestError{Status: http.StatusUnsupportedMediaType, Msg: fmt.Sprintf("Content-Type %s is not accepted: send application/json", mediaType)}
}
