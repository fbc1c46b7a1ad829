package transport

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// LevelTrace is below slog's Debug: request and response bodies. The provider
// maps it to Terraform's TRACE; the server shows it with --log-level trace.
const LevelTrace = slog.LevelDebug - 4

// maxLoggedBody keeps trace logs readable on large list responses.
const maxLoggedBody = 8 << 10

// maxBufferedBody bounds the extra memory logging may take per response.
const maxBufferedBody = 4 << 20

// Discard is the logger of clients given none.
var Discard = slog.New(slog.DiscardHandler)

type readCloser struct {
	io.Reader
	io.Closer
}

// LoggingTransport logs each HTTP exchange to Log: one line per exchange at
// Debug, and headers and bodies at LevelTrace, with every secret redacted.
// Each record carries the request's context, so a handler can route it (the
// provider's goes to tflog, which finds Terraform's logger there).
type LoggingTransport struct {
	Name string // "dbt Cloud" or "Tableau": which API the log line is about
	Next http.RoundTripper
	Log  *slog.Logger
}

func (t *LoggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	tracing := t.Log.Enabled(ctx, LevelTrace)
	fields := []any{"api", t.Name, "method", req.Method, "url", req.URL.Redacted()}
	if tracing {
		t.Log.Log(ctx, LevelTrace, t.Name+" API request", append(fields,
			"headers", RedactHeaders(req.Header), "body", RedactJSON(requestBody(req), maxLoggedBody))...)
	}

	start := time.Now()
	resp, err := t.Next.RoundTrip(req)
	fields = append(fields, "duration_ms", time.Since(start).Milliseconds())
	if err != nil {
		t.Log.DebugContext(ctx, t.Name+" API request failed", append(fields, "error", err.Error())...)
		return nil, err
	}
	fields = append(fields, "status", resp.StatusCode)
	t.Log.DebugContext(ctx, t.Name+" API response", fields...)
	if tracing && resp.Body != nil {
		t.traceResponse(ctx, resp, fields)
	}
	return resp, nil
}

// traceResponse buffers at most maxBufferedBody so the body can be traced and
// still read by the caller; anything longer streams through untraced.
func (t *LoggingTransport) traceResponse(ctx context.Context, resp *http.Response, fields []any) {
	buf, err := io.ReadAll(io.LimitReader(resp.Body, maxBufferedBody+1))
	if err != nil || len(buf) > maxBufferedBody {
		resp.Body = readCloser{io.MultiReader(bytes.NewReader(buf), resp.Body), resp.Body}
		return
	}
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(buf))
	t.Log.Log(ctx, LevelTrace, t.Name+" API response body", append(fields,
		"headers", RedactHeaders(resp.Header), "body", RedactJSON(buf, maxLoggedBody))...)
}

func requestBody(req *http.Request) []byte {
	if req.GetBody == nil {
		return nil
	}
	rc, err := req.GetBody()
	if err != nil {
		return nil
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return b
}
