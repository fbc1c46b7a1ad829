package transport

import (
	"bytes"
	"io"
	"net/http"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// maxLoggedBody keeps trace logs readable on large list responses.
const maxLoggedBody = 8 << 10

// maxBufferedBody bounds the extra memory logging may take per response.
const maxBufferedBody = 4 << 20

type readCloser struct {
	io.Reader
	io.Closer
}

// LoggingTransport logs each HTTP exchange through tflog at debug (line) and
// trace (headers and bodies), with secrets redacted. Outside Terraform, where the
// context carries no logger, tflog discards everything.
type LoggingTransport struct {
	Name string // "dbt Cloud" or "Tableau": which API the log line is about
	Next http.RoundTripper
}

func (t *LoggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	fields := map[string]any{
		"api":    t.Name,
		"method": req.Method,
		"url":    req.URL.Redacted(),
	}
	var reqBody []byte
	if req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			reqBody, _ = io.ReadAll(rc)
			_ = rc.Close()
		}
	}
	tflog.Trace(ctx, t.Name+" API request", merge(fields, map[string]any{
		"headers": RedactHeaders(req.Header),
		"body":    RedactJSON(reqBody, maxLoggedBody),
	}))

	start := time.Now()
	resp, err := t.Next.RoundTrip(req)
	fields["duration_ms"] = time.Since(start).Milliseconds()
	if err != nil {
		tflog.Debug(ctx, t.Name+" API request failed", merge(fields, map[string]any{"error": err.Error()}))
		return nil, err
	}
	fields["status"] = resp.StatusCode
	tflog.Debug(ctx, t.Name+" API response", fields)

	// Buffer at most maxBufferedBody so the body can be traced and still read by
	// the caller; anything longer streams through untraced.
	if resp.Body != nil {
		buf, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBufferedBody+1))
		if rerr != nil || len(buf) > maxBufferedBody {
			resp.Body = readCloser{io.MultiReader(bytes.NewReader(buf), resp.Body), resp.Body}
			return resp, nil
		}
		_ = resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(buf))
		tflog.Trace(ctx, t.Name+" API response body", merge(fields, map[string]any{
			"headers": RedactHeaders(resp.Header),
			"body":    RedactJSON(buf, maxLoggedBody),
		}))
	}
	return resp, nil
}

func merge(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
