// Package transport holds the HTTP plumbing shared by the dbt Cloud client and
// every BI tool's client: retries with backoff, a shared rate limit, and
// request logging that never shows a secret.
package transport

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Redacted replaces every secret value in logs.
const Redacted = "***REDACTED***"

// secretHeaders are never logged with their values.
var secretHeaders = map[string]bool{
	"Authorization":       true,
	"X-Tableau-Auth":      true,
	"Cookie":              true,
	"Set-Cookie":          true,
	"Proxy-Authorization": true,
}

// RedactHeaders returns the headers as a flat map with secret values hidden.
func RedactHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if secretHeaders[http.CanonicalHeaderKey(k)] {
			out[k] = Redacted
			continue
		}
		out[k] = strings.Join(v, ", ")
	}
	return out
}

// IsSecretKey reports whether a JSON field of this name holds a secret.
// It errs on the side of hiding: session tokens, API tokens, PAT secrets, passwords.
func IsSecretKey(key string) bool {
	k := strings.ToLower(key)
	switch {
	case k == "token", k == "authorization", k == "token_wo":
		return true
	case strings.HasSuffix(k, "secret"), strings.HasSuffix(k, "password"),
		strings.HasSuffix(k, "_token"), strings.HasSuffix(k, "tokensecret"):
		return true
	}
	return false
}

// RedactJSON returns body with the values of secret fields replaced. A body that
// is not JSON is not shown at all, because we cannot tell what it holds.
func RedactJSON(body []byte, max int) string {
	if len(body) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return "(non-JSON body omitted)"
	}
	out, err := json.Marshal(redactValue(v))
	if err != nil {
		return "(body omitted)"
	}
	if max > 0 && len(out) > max {
		return string(out[:max]) + "…(truncated)"
	}
	return string(out)
}

func redactValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if IsSecretKey(k) {
				if val != nil {
					t[k] = Redacted
				}
				continue
			}
			t[k] = redactValue(val)
		}
		return t
	case []any:
		for i := range t {
			t[i] = redactValue(t[i])
		}
		return t
	default:
		return v
	}
}
