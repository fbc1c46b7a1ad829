package dbtcloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

func testClient(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(Config{HostURL: srv.URL + "/api", AccountID: 7, Token: "s3cret-token",
		Retry: transport.RetryConfig{MaxRetries: 3, WaitMin: 10 * time.Millisecond, WaitMax: 50 * time.Millisecond, Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ok(w http.ResponseWriter, data any) {
	_ = json.NewEncoder(w).Encode(map[string]any{"data": data, "status": map[string]any{"code": 200, "is_success": true}})
}

func TestRetriesOn429HonouringRetryAfter(t *testing.T) {
	var calls atomic.Int32
	var first, second time.Time
	c := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			second = time.Now()
			ok(w, map[string]any{"id": 5, "name": "tableau"})
		}
	})
	got, err := c.GetLineageIntegration(context.Background(), 1, 5)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != 5 || calls.Load() != 2 {
		t.Fatalf("got %+v after %d calls", got, calls.Load())
	}
	// Retry-After: 1 must win over the 10–50 ms backoff.
	if wait := second.Sub(first); wait < 900*time.Millisecond {
		t.Fatalf("retried after %v, want about 1s from Retry-After", wait)
	}
}

func TestRetriesOn5xxThenSurfacesLastError(t *testing.T) {
	var calls atomic.Int32
	c := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadGateway)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": map[string]any{"code": 502, "is_success": false, "user_message": "upstream down"}})
	})
	_, err := c.GetLineageIntegration(context.Background(), 1, 5)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 || apiErr.UserMessage != "upstream down" {
		t.Fatalf("want APIError 502 'upstream down', got %v", err)
	}
	if calls.Load() != 4 {
		t.Fatalf("want 1 try + 3 retries, got %d calls", calls.Load())
	}
}

func TestNoRetryOn400AndEnvelopeMessagesSurface(t *testing.T) {
	var calls atomic.Int32
	c := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"data": nil, "status": map[string]any{
			"code": 400, "is_success": false, "user_message": "Invalid field \"config.host\"", "developer_message": "validation"}})
	})
	_, err := c.CreateLineageIntegration(context.Background(), 1, CreateLineageIntegrationRequest{Name: "tableau"})
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("want *APIError, got %T %v", err, err)
	}
	if calls.Load() != 1 {
		t.Fatalf("400 must not be retried; got %d calls", calls.Load())
	}
	if apiErr.UserMessage != "Invalid field \"config.host\"" || apiErr.DeveloperMessage != "validation" {
		t.Fatalf("messages lost: %+v", apiErr)
	}
	if !strings.Contains(err.Error(), "config.host") || strings.Contains(err.Error(), "s3cret-token") {
		t.Fatalf("error text: %q", err.Error())
	}
}

func TestContextCancellationStopsBackoff(t *testing.T) {
	c := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GetLineageIntegration(ctx, 1, 5)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want deadline exceeded, got %v", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("waited %v despite the cancelled context", el)
	}
}

func TestPaginationAcrossPages(t *testing.T) {
	const total = 250
	var calls atomic.Int32
	c := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		var page []map[string]any
		for i := offset; i < total && i < offset+limit; i++ {
			page = append(page, map[string]any{"id": i + 1, "account_id": 7, "name": fmt.Sprintf("p%d", i+1)})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"data": page, "status": map[string]any{"code": 200, "is_success": true},
			"extra": map[string]any{"pagination": map[string]any{"count": len(page), "total_count": total}}})
	})
	ps, err := c.ListProjects(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != total || ps[0].ID != 1 || ps[total-1].ID != total {
		t.Fatalf("got %d projects", len(ps))
	}
	if calls.Load() != 3 {
		t.Fatalf("want 3 page requests, got %d", calls.Load())
	}
}

func TestPaginationCannotLoopForever(t *testing.T) {
	var calls atomic.Int32
	// A broken server: always a full page, always claims more.
	c := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) > maxPages+5 {
			t.Error("kept paging past the bound")
		}
		page := make([]map[string]any, pageSize)
		for i := range page {
			page[i] = map[string]any{"id": i + 1}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"data": page, "extra": map[string]any{"pagination": map[string]any{"count": pageSize, "total_count": 1 << 40}}})
	})
	_, err := c.ListProjects(context.Background())
	if err == nil || !strings.Contains(err.Error(), "gave up") {
		t.Fatalf("want a 'gave up' error, got %v", err)
	}
}

func TestSendsAuthAndUserAgent(t *testing.T) {
	c := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Token s3cret-token" {
			t.Errorf("Authorization = %q", got)
		}
		if !strings.HasPrefix(r.Header.Get("User-Agent"), "terraform-provider-dbtexposures/") {
			t.Errorf("User-Agent = %q", r.Header.Get("User-Agent"))
		}
		if r.URL.Path != "/api/v3/accounts/7/projects/3/integrations/lineage/9/" {
			t.Errorf("path = %q", r.URL.Path)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	if err := c.DeleteLineageIntegration(context.Background(), 3, 9); err != nil {
		t.Fatal(err)
	}
}

func TestNotFoundIsRecognised(t *testing.T) {
	c := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"status":{"code":404,"is_success":false,"user_message":"gone"},"data":null}`))
	})
	_, err := c.GetLineageIntegration(context.Background(), 1, 2)
	if !IsNotFound(err) {
		t.Fatalf("want not found, got %v", err)
	}
}

// A create is never resent after dbt Cloud may have acted on it: a 5xx (or a
// lost response) is reported once, as an outcome to check; a 429 is retried.
func TestCreateIsNotResentAfterAnAmbiguousFailure(t *testing.T) {
	var calls atomic.Int32
	c := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	})
	_, err := c.CreateLineageIntegration(context.Background(), 1, CreateLineageIntegrationRequest{Name: "tableau"})
	if calls.Load() != 1 {
		t.Fatalf("the create was sent %d times after a 502; it must be sent once", calls.Load())
	}
	if !OutcomeUnknown(err) {
		t.Fatalf("a 502 on create must leave the outcome unknown: %v", err)
	}

	calls.Store(0)
	c = testClient(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		ok(w, map[string]any{"id": 9, "name": "tableau"})
	})
	got, err := c.CreateLineageIntegration(context.Background(), 1, CreateLineageIntegrationRequest{Name: "tableau"})
	if err != nil || got.ID != 9 || calls.Load() != 2 {
		t.Fatalf("a 429 on create must be retried: %v %+v after %d calls", err, got, calls.Load())
	}

	// The server reads the request, then drops the connection without answering.
	calls.Store(0)
	c = testClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	})
	_, err = c.CreateLineageIntegration(context.Background(), 1, CreateLineageIntegrationRequest{Name: "tableau"})
	if calls.Load() != 1 || !OutcomeUnknown(err) {
		t.Fatalf("a lost response: sent %d times, outcome unknown %v (%v)", calls.Load(), OutcomeUnknown(err), err)
	}
	if OutcomeUnknown(&APIError{StatusCode: 400}) {
		t.Fatal("a 400 is a definite refusal")
	}
}

// A request that could not connect never reached the server, so even a create
// may be sent again; the outcome of such a failure is known: nothing happened.
func TestNoConnectionIsAKnownOutcome(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	c, err := New(Config{HostURL: url + "/api", AccountID: 7, Token: "t",
		Retry: transport.RetryConfig{MaxRetries: 1, WaitMin: time.Millisecond, WaitMax: time.Millisecond, Timeout: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateLineageIntegration(context.Background(), 1, CreateLineageIntegrationRequest{Name: "tableau"})
	if err == nil || OutcomeUnknown(err) {
		t.Fatalf("a refused connection must be a known outcome: %v", err)
	}
}
