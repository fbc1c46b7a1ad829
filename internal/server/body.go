package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
)

// badRequest is a 400 whose message names the offending field.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badField(field, format string, args ...any) error {
	return &badRequest{msg: fmt.Sprintf("Invalid field %q: %s", field, fmt.Sprintf(format, args...))}
}

// readObject reads a JSON object body, rejecting fields not in allowed (the
// spec's request schemas set additionalProperties: false).
func readObject(r *http.Request, prefix string, allowed ...string) (map[string]json.RawMessage, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &badRequest{msg: fmt.Sprintf("Request body is larger than %d bytes.", tooBig.Limit)}
		}
		return nil, err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, &badRequest{msg: "Request body is empty: send a JSON object."}
	}
	return objectFields(raw, prefix, allowed...)
}

func objectFields(raw json.RawMessage, prefix string, allowed ...string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		if prefix == "" {
			return nil, &badRequest{msg: "Request body must be a JSON object: " + describeJSONError(err)}
		}
		return nil, badField(strings.TrimSuffix(prefix, "."), "must be a JSON object")
	}
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	var unknown []string
	for k := range m {
		if !ok[k] {
			unknown = append(unknown, prefix+k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, &badRequest{msg: fmt.Sprintf("Unknown field(s) %s; allowed fields are: %s.", strings.Join(quoteAll(unknown), ", "), strings.Join(quoteAll(prefixAll(prefix, allowed)), ", "))}
	}
	return m, nil
}

func describeJSONError(err error) string {
	if err == nil {
		return "got null"
	}
	return err.Error()
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

func prefixAll(p string, s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = p + v
	}
	return out
}

// stringField reads an optional string; present reports whether it was given.
func stringField(m map[string]json.RawMessage, field, name string) (val string, present bool, err error) {
	raw, ok := m[name]
	if !ok {
		return "", false, nil
	}
	if err := json.Unmarshal(raw, &val); err != nil || string(raw) == "null" {
		return "", true, badField(field, "must be a string")
	}
	return val, true, nil
}

// intField reads an optional integer.
func intField(m map[string]json.RawMessage, field, name string) (val int64, present bool, err error) {
	raw, ok := m[name]
	if !ok {
		return 0, false, nil
	}
	if err := json.Unmarshal(raw, &val); err != nil || string(raw) == "null" {
		return 0, true, badField(field, "must be an integer")
	}
	return val, true, nil
}
