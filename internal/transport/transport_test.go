package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true},
		{"0", 0, true},
		{"-1", 0, false},
		{"", 0, false},
		{"soon", 0, false},
		{now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
	}
	for _, c := range cases {
		got, ok := ParseRetryAfter(c.in, now)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestBackoffGrowsWithJitterAndCaps(t *testing.T) {
	min, max := 100*time.Millisecond, 2*time.Second
	for attempt := 0; attempt < 10; attempt++ {
		for i := 0; i < 50; i++ {
			d := Backoff(min, max, attempt, nil)
			ceiling := min << uint(attempt)
			if ceiling > max {
				ceiling = max
			}
			if d < min || d > ceiling {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d, min, ceiling)
			}
		}
	}
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"4"}}}
	if d := Backoff(min, max, 0, resp); d != 4*time.Second {
		t.Fatalf("Retry-After ignored: %v", d)
	}
	resp.Header.Set("Retry-After", "100000")
	if d := Backoff(min, max, 0, resp); d != MaxRetryAfter {
		t.Fatalf("Retry-After not capped: %v", d)
	}
}

func TestRedaction(t *testing.T) {
	h := http.Header{"Authorization": {"Token abc"}, "X-Tableau-Auth": {"sess"}, "Accept": {"application/json"}}
	got := RedactHeaders(h)
	if got["Authorization"] != Redacted || got["X-Tableau-Auth"] != Redacted || got["Accept"] != "application/json" {
		t.Fatalf("headers: %v", got)
	}
	body := `{"config":{"host":"h","token":"TOPSECRET","token_name":"n"},"credentials":{"personalAccessTokenSecret":"PATSECRET","personalAccessTokenName":"pat"}}`
	out := RedactJSON([]byte(body), 0)
	for _, s := range []string{"TOPSECRET", "PATSECRET"} {
		if strings.Contains(out, s) {
			t.Fatalf("secret %s leaked: %s", s, out)
		}
	}
	if !strings.Contains(out, `"pat"`) || !strings.Contains(out, `"host":"h"`) {
		t.Fatalf("non-secrets lost: %s", out)
	}
	if RedactJSON([]byte("token=abc"), 0) != "(non-JSON body omitted)" {
		t.Fatal("non-JSON body must not be logged")
	}
}

// A client logs to the logger it is given: one retry line per retried attempt,
// and traces whose secrets are redacted.
func TestClientLogsRetriesAndRedactedTraces(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"token":"SERVER-SECRET","name":"ok"}`))
	}))
	defer srv.Close()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: LevelTrace}))
	c := NewClient("Test", ClientOptions{Retry: RetryConfig{MaxRetries: 2, WaitMin: time.Millisecond, WaitMax: 5 * time.Millisecond, Timeout: 5 * time.Second}, Logger: log})
	req, _ := retryablehttp.NewRequest(http.MethodPost, srv.URL, []byte(`{"password":"CLIENT-SECRET"}`))
	req.Header.Set("Authorization", "Token HEADER-SECRET")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "SERVER-SECRET") {
		t.Fatalf("the caller must still get the whole body: %s", body)
	}
	out := logs.String()
	for _, want := range []string{`msg="Test API request retried"`, "attempt=1", `msg="Test API response body"`, "Authorization:" + Redacted, "status=503"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"SERVER-SECRET", "CLIENT-SECRET", "HEADER-SECRET"} {
		if strings.Contains(out, secret) {
			t.Errorf("log shows %s:\n%s", secret, out)
		}
	}
}

// Clients that share a Throttle keep together to its rate, and a 429 with
// Retry-After makes every one of them wait, not only the one that got it.
func TestThrottleIsSharedAndHonoursRetryAfterForAll(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	var first429 atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		n := len(times)
		mu.Unlock()
		if n == 15 && first429.CompareAndSwap(false, true) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	th := NewThrottle(1200) // 20 a second, bursts of 10
	retry := RetryConfig{MaxRetries: 3, WaitMin: time.Millisecond, WaitMax: 10 * time.Millisecond, Timeout: 5 * time.Second}
	clients := []*retryablehttp.Client{NewClient("A", ClientOptions{Retry: retry, Throttle: th}), NewClient("B", ClientOptions{Retry: retry, Throttle: th})}
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(c *retryablehttp.Client) {
			defer wg.Done()
			resp, err := c.Get(srv.URL)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		}(clients[i%2])
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	if len(times) != 41 {
		t.Fatalf("%d requests reached the server, want 40 and one retry", len(times))
	}
	// Rate: no second holds more than the burst plus a second's worth.
	for i := range times {
		j := i
		for j < len(times) && times[j].Sub(times[i]) < time.Second {
			j++
		}
		if j-i > 10+20 {
			t.Fatalf("%d requests within one second, over the rate", j-i)
		}
	}
	// Pause: once the 429 (the 15th) is answered, nobody sends for a second;
	// only requests already on their way may still arrive just after it.
	for _, at := range times[15:] {
		if d := at.Sub(times[14]); d > 100*time.Millisecond && d < 900*time.Millisecond {
			t.Fatalf("a request came %v after the 429; every client must wait its Retry-After", d)
		}
	}
	if times[len(times)-1].Sub(times[14]) < time.Second {
		t.Fatal("the requests after the 429 did not wait for its Retry-After")
	}
}

// A host name that does not resolve is not tried again: a typo in a host
// setting fails at once. A DNS timeout is still retried.
func TestUnresolvableHostIsNotRetried(t *testing.T) {
	dials := atomic.Int32{}
	r := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		dials.Add(1)
		return nil, errors.New("no DNS here")
	}}
	_, _ = r.LookupHost(context.Background(), "no-such-host.invalid")
	perLookup := dials.Swap(0)
	if perLookup == 0 {
		t.Fatal("the resolver was never asked: the test proves nothing")
	}
	d := &net.Dialer{Resolver: r}
	c := NewClient("Test", ClientOptions{Retry: RetryConfig{MaxRetries: 3, WaitMin: time.Millisecond, WaitMax: time.Millisecond, Timeout: 5 * time.Second},
		Base: &http.Transport{DialContext: d.DialContext}})
	req, _ := retryablehttp.NewRequest(http.MethodGet, "http://no-such-host.invalid/", nil)
	if _, err := c.Do(req); err == nil {
		t.Fatal("an unresolvable host answered")
	}
	if n := dials.Load(); n != perLookup {
		t.Fatalf("the request looked the host up %d times (one lookup asks %d): it was retried", n, perLookup)
	}
	if !unresolvable(&net.DNSError{Err: "no such host", IsNotFound: true}) || unresolvable(&net.DNSError{Err: "timeout", IsTimeout: true}) {
		t.Fatal("unresolvable misjudges DNS errors")
	}
}
