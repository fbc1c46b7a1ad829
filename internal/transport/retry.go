package transport

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"
)

// RetryConfig says how hard a client tries before giving up.
type RetryConfig struct {
	MaxRetries int           // retries after the first attempt
	WaitMin    time.Duration // first backoff
	WaitMax    time.Duration // backoff cap (a server's Retry-After may exceed it, up to MaxRetryAfter)
	Timeout    time.Duration // per attempt
}

// MaxRetryAfter caps how long a Retry-After may make us wait; past it we give up
// with the server's answer rather than hang a plan for longer.
const MaxRetryAfter = 5 * time.Minute

// DefaultRetryConfig suits interactive plans: about half a minute of retrying at most.
func DefaultRetryConfig() RetryConfig {
	return RetryConfig{MaxRetries: 4, WaitMin: 500 * time.Millisecond, WaitMax: 15 * time.Second, Timeout: 60 * time.Second}
}

// NewClient returns a retrying HTTP client: transport errors, 429 and 5xx are
// retried with exponential backoff and full jitter, honouring Retry-After; the
// wait between attempts ends as soon as the request's context is done. After the
// last attempt the final response is returned as it is, so callers can report it.
// Exchanges and retries are logged to o.Logger (nil discards); o.Base is the
// transport underneath (nil: a pooled transport of its own); every attempt
// waits for o.Throttle, when set.
func NewClient(apiName string, o ClientOptions) *retryablehttp.Client {
	log, cfg := o.Logger, o.Retry
	if log == nil {
		log = Discard
	}
	hc := cleanhttp.DefaultPooledClient()
	if o.Base != nil {
		hc.Transport = o.Base
	}
	hc.Transport = &LoggingTransport{Name: apiName, Next: hc.Transport, Log: log}
	if o.Throttle != nil {
		hc.Transport = &ThrottledTransport{Throttle: o.Throttle, Next: hc.Transport, Log: log, Name: apiName}
	}
	hc.Timeout = cfg.Timeout
	// Redirects are followed by callers that need them (Tableau's sign-in re-POSTs).
	return &retryablehttp.Client{
		HTTPClient:   hc,
		Logger:       nil, // retries go to log below, never printed
		RetryWaitMin: cfg.WaitMin,
		RetryWaitMax: cfg.WaitMax,
		RetryMax:     cfg.MaxRetries,
		CheckRetry:   retryPolicy,
		Backoff:      Backoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		RequestLogHook: func(_ retryablehttp.Logger, req *http.Request, attempt int) {
			if attempt > 0 {
				log.InfoContext(req.Context(), apiName+" API request retried",
					"api", apiName, "method", req.Method, "url", req.URL.Redacted(), "attempt", attempt)
			}
		},
	}
}

// ClientOptions are what NewClient builds a client from.
type ClientOptions struct {
	Retry    RetryConfig
	Logger   *slog.Logger
	Base     http.RoundTripper
	Throttle *Throttle
}

type notIdempotentKey struct{}

// NotIdempotent marks the requests made with ctx as unsafe to send twice (a
// create): they are retried only when the server certainly did not act on them,
// that is after a 429 or when no connection was made. After a timeout, a reset
// connection or a 5xx the outcome is unknown, and the caller must find out.
func NotIdempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, notIdempotentKey{}, true)
}

func isNotIdempotent(ctx context.Context) bool {
	v, _ := ctx.Value(notIdempotentKey{}).(bool)
	return v
}

// retryPolicy is retryablehttp's (transport errors, 429 and 5xx) for idempotent
// requests, and the safe subset of it for requests marked NotIdempotent.
func retryPolicy(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if unresolvable(err) {
		return false, nil
	}
	if !isNotIdempotent(ctx) {
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return NeverSent(err), nil
	}
	return resp.StatusCode == http.StatusTooManyRequests, nil
}

// ErrEgressRefused is the error of a connection that the program's egress
// rules would not make; connectors say which of their settings leads there.
var ErrEgressRefused = errors.New("connection refused by the server's egress rules")

// unresolvable reports whether err is a host name that did not resolve, for
// good (not a DNS timeout or outage): trying again in seconds cannot help,
// and the setting that names the host is what to fix.
func unresolvable(err error) bool {
	var dns *net.DNSError
	return errors.As(err, &dns) && !dns.IsTimeout && !dns.IsTemporary
}

// NeverSent reports whether err means the request never reached the server:
// the connection could not be made (refused, unresolvable, unreachable).
func NeverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// Backoff waits what the server asked for when it said (Retry-After on 429 and
// 503), otherwise min·2^attempt capped at max, with full jitter so that many
// clients retrying together do not stampede.
func Backoff(waitMin, waitMax time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return min(d, MaxRetryAfter)
		}
	}
	ceiling := waitMax
	if attempt < 30 {
		if c := waitMin << uint(attempt); c > 0 && c < waitMax {
			ceiling = c
		}
	}
	if ceiling <= waitMin {
		return waitMin
	}
	return waitMin + rand.N(ceiling-waitMin+1)
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// Sleep waits d or until ctx is done, whichever is first.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
