package server_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/logtest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
)

// After traffic, GET /metrics (no token) has the requests by route template
// (never a raw path), the syncs, the BI calls by tool, the refreshes by
// action and the database pool.
func TestMetricsAfterTraffic(t *testing.T) {
	g := newActiveRig(t, true)
	g.run(t, modelCustomers+"=success")
	rawCall(t, "GET", g.srv.HostURL+"/v3/accounts/1/projects/", g.srv.Token, nil)
	code, body := get(t, g.srv.URL+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`dbtexposures_http_requests_total{code="200",method="GET",route="/api/v3/accounts/{account_id}/projects/{$}"} 1`,
		`dbtexposures_http_request_duration_seconds_bucket{method="POST",route="/api/v3/accounts/{account_id}/projects/{project_id}/exposures/sync/{$}"`,
		`dbtexposures_sync_duration_seconds_count{outcome="success"}`,
		`dbtexposures_bi_calls_total{outcome="2xx",tool="tableau"}`,
		`dbtexposures_refreshes_total{action="refreshed"}`,
		`dbtexposures_db_connections_open`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, `route="/api/v3/accounts/1/`) {
		t.Error("a route is labelled by its raw path")
	}
}

// Every answer carries a request ID, the caller's own when it sends a sane
// one, and the access log line has it.
func TestRequestIDs(t *testing.T) {
	var logs logtest.Buffer
	srv := servertest.NewLogged(t, slog.New(slog.NewTextHandler(&logs, nil)))
	req, _ := http.NewRequest("GET", srv.URL+"/healthz", nil)
	req.Header.Set("X-Request-Id", "proxy-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "proxy-42" || !strings.Contains(logs.String(), "request_id=proxy-42") {
		t.Fatalf("the caller's ID: header %q, logs %s", got, logs.String())
	}
	req.Header.Set("X-Request-Id", "not sane/../"+strings.Repeat("x", 70))
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); len(got) != 16 {
		t.Fatalf("a made-up ID for an insane one: %q", got)
	}
}
