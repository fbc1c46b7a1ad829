package transport

import (
	"net/http"
	"strings"
	"testing"
	"time"
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
