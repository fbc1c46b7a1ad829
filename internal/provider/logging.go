package provider

import (
	"context"
	"log/slog"
	"os"
	"strings"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// clientLogger is the logger the provider gives its API clients: their records
// go to Terraform's log through tflog, at the matching level, so TF_LOG shows
// the same request traces, retries and Tableau warnings as dbtexposures-server's
// log does. tflog finds Terraform's logger (and its masks) in each record's context.
var clientLogger = slog.New(tflogHandler{})

// tflogHandler is a slog.Handler writing to tflog.
type tflogHandler struct {
	attrs []slog.Attr
}

// Enabled says whether Terraform logs at level, so that the clients skip the
// costly trace records (each response body parsed to redact it) when nobody
// reads them. tflog filters again by the same settings.
func (tflogHandler) Enabled(_ context.Context, level slog.Level) bool {
	if level >= slog.LevelInfo {
		return true
	}
	switch terraformLogLevel() {
	case "TRACE", "JSON":
		return true
	case "DEBUG":
		return level >= slog.LevelDebug
	}
	return false
}

// terraformLogLevel is the level Terraform gives this provider's logs: the
// provider's own setting, all providers', or Terraform's.
func terraformLogLevel() string {
	for _, env := range []string{"TF_LOG_PROVIDER_DBTEXPOSURES", "TF_LOG_PROVIDER", "TF_LOG"} {
		if v := os.Getenv(env); v != "" {
			return strings.ToUpper(v)
		}
	}
	return ""
}

func (h tflogHandler) Handle(ctx context.Context, r slog.Record) error {
	fields := make(map[string]any, len(h.attrs)+r.NumAttrs())
	add := func(a slog.Attr) bool {
		fields[a.Key] = a.Value.Resolve().Any()
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	switch {
	case r.Level <= transport.LevelTrace:
		tflog.Trace(ctx, r.Message, fields)
	case r.Level < slog.LevelInfo:
		tflog.Debug(ctx, r.Message, fields)
	case r.Level < slog.LevelWarn:
		tflog.Info(ctx, r.Message, fields)
	case r.Level < slog.LevelError:
		tflog.Warn(ctx, r.Message, fields)
	default:
		tflog.Error(ctx, r.Message, fields)
	}
	return nil
}

func (h tflogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return tflogHandler{attrs: append(append([]slog.Attr(nil), h.attrs...), attrs...)}
}

// WithGroup is not used by the clients; groups are flattened into the fields.
func (h tflogHandler) WithGroup(string) slog.Handler { return h }
