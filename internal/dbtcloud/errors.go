package dbtcloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// APIError is a non-2xx answer from dbt Cloud, with the envelope's messages.
type APIError struct {
	Method           string
	Path             string
	StatusCode       int
	UserMessage      string
	DeveloperMessage string
	Note             string // what the client adds, e.g. its own rate on a 429
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: HTTP %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.UserMessage != "" {
		fmt.Fprintf(&b, ": %s", e.UserMessage)
	}
	if e.DeveloperMessage != "" && e.DeveloperMessage != e.UserMessage {
		fmt.Fprintf(&b, " (%s)", e.DeveloperMessage)
	}
	if e.Note != "" {
		fmt.Fprintf(&b, ". %s", e.Note)
	}
	return b.String()
}

func newAPIError(method, path string, code int, raw []byte) *APIError {
	e := &APIError{Method: method, Path: path, StatusCode: code}
	var env struct {
		Status *Status `json:"status"`
		Detail string  `json:"detail"` // some dbt Cloud errors use this DRF shape
	}
	if json.Unmarshal(raw, &env) == nil {
		if env.Status != nil {
			e.UserMessage = env.Status.UserMessage
			e.DeveloperMessage = env.Status.DeveloperMessage
		}
		if e.UserMessage == "" {
			e.UserMessage = env.Detail
		}
	}
	if e.UserMessage == "" && len(raw) > 0 && len(raw) < 300 && !strings.HasPrefix(strings.TrimSpace(string(raw)), "<") {
		e.UserMessage = strings.TrimSpace(string(raw))
	}
	return e
}

// OutcomeUnknown reports whether a failed request may nonetheless have been
// carried out: the server answered 5xx or 408, or the exchange broke after the
// request was sent (a timeout, a reset connection, a lost response). A create
// that fails this way must be checked for before it is sent again.
func OutcomeUnknown(err error) bool {
	if err == nil {
		return false
	}
	var e *APIError
	if errors.As(err, &e) {
		return e.StatusCode >= 500 || e.StatusCode == http.StatusRequestTimeout
	}
	return !transport.NeverSent(err)
}

// IsNotFound reports whether err is dbt Cloud saying the object does not exist.
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsForbidden reports whether the token may not see the object.
func IsForbidden(err error) bool { return hasStatus(err, http.StatusForbidden) }

func hasStatus(err error, code int) bool {
	var e *APIError
	return errors.As(err, &e) && e.StatusCode == code
}
