package transport

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Throttle keeps the requests of every client that shares it within a rate,
// and makes them all wait when the server answers 429: a server that enforces
// an account-wide limit (dbt Cloud allows 5,000 requests a minute per account,
// then locks the account out for minutes) must not see the other clients of
// the process carry on while one backs off.
type Throttle struct {
	limiter *rate.Limiter // nil: no rate
	perMin  int

	mu         sync.Mutex
	pauseUntil time.Time
}

// throttleBurst is how many requests may go at once before the rate applies.
const throttleBurst = 10

// NewThrottle allows perMinute requests a minute, in bursts of a few; 0 means
// no rate, but a 429's Retry-After is still honoured by everyone.
func NewThrottle(perMinute int) *Throttle {
	t := &Throttle{perMin: perMinute}
	if perMinute > 0 {
		t.limiter = rate.NewLimiter(rate.Limit(float64(perMinute)/60), min(throttleBurst, perMinute))
	}
	return t
}

// PerMinute is the configured rate, 0 when unlimited.
func (t *Throttle) PerMinute() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.perMin
}

// Lower brings the rate down to perMinute when that is lower (0, no limit,
// lowers nothing): every client sharing the throttle keeps to the lowest rate
// any of them was configured with.
func (t *Throttle) Lower(perMinute int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if perMinute <= 0 || (t.perMin > 0 && t.perMin <= perMinute) {
		return
	}
	t.perMin = perMinute
	if t.limiter == nil {
		t.limiter = rate.NewLimiter(rate.Limit(float64(perMinute)/60), min(throttleBurst, perMinute))
		return
	}
	t.limiter.SetLimit(rate.Limit(float64(perMinute) / 60))
	t.limiter.SetBurst(min(throttleBurst, perMinute))
}

// wait blocks until a request may go: within the rate, and not during a
// pause, including one that began while it waited for the rate.
func (t *Throttle) wait(ctx context.Context) error {
	for {
		t.mu.Lock()
		pause := time.Until(t.pauseUntil)
		t.mu.Unlock()
		if pause > 0 {
			if err := Sleep(ctx, pause); err != nil {
				return err
			}
		}
		t.mu.Lock()
		limiter := t.limiter
		t.mu.Unlock()
		if limiter != nil {
			if err := limiter.Wait(ctx); err != nil {
				return err
			}
		}
		t.mu.Lock()
		paused := time.Now().Before(t.pauseUntil)
		t.mu.Unlock()
		if !paused {
			return nil
		}
	}
}

// pause makes every client of the throttle wait d from now.
func (t *Throttle) pause(d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if until := time.Now().Add(d); until.After(t.pauseUntil) {
		t.pauseUntil = until
	}
}

// ThrottledTransport sends each request, each retry included, through a Throttle.
type ThrottledTransport struct {
	Throttle *Throttle
	Next     http.RoundTripper
	Log      *slog.Logger
	Name     string // the API, for the log
}

func (t *ThrottledTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.Throttle.wait(req.Context()); err != nil {
		return nil, err
	}
	resp, err := t.Next.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		if !ok {
			d = time.Second
		}
		d = min(d, MaxRetryAfter)
		t.Throttle.pause(d)
		t.Log.WarnContext(req.Context(), t.Name+" API rate limit reached: every request of this process waits",
			"api", t.Name, "retry_after", d.String(), "limit_per_minute", t.Throttle.PerMinute())
	}
	return resp, err
}
