package powerbi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeTenant answers with the recorded samples; tests change its behaviour.
type fakeTenant struct {
	t          *testing.T
	mu         sync.Mutex
	tokenCalls int
	tokenForm  string
	tokenFail  string // a sample file to answer the token request with
	tokenCode  int
	getInfos   [][]string
	inFlight   atomic.Int32
	maxFlight  atomic.Int32
	polls      atomic.Int32
	pollsToEnd int32        // scanStatus answers before Succeeded
	failScan   bool         // end in Failed instead
	throttle   atomic.Int32 // getInfo answers 429 this many times
	result     []byte       // scanResult's answer
}

func (f *fakeTenant) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.t.Helper()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
		_ = r.ParseForm()
		f.mu.Lock()
		f.tokenCalls++
		f.tokenForm = r.PostForm.Encode()
		f.mu.Unlock()
		if f.tokenFail != "" {
			w.WriteHeader(f.tokenCode)
			_, _ = w.Write(sample(f.t, f.tokenFail))
			return
		}
		_, _ = w.Write(sample(f.t, "entra-token-response-200.json"))
		return
	case r.Header.Get("Authorization") != "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsIng1dCI6Ik1uQ19WWmNBVGZNNXBP...":
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write(sample(f.t, "powerbi-error-401-not-authorized.json"))
	case strings.HasSuffix(r.URL.Path, "/admin/workspaces/modified"):
		_, _ = w.Write(sample(f.t, "mslearn-modified-200.json"))
	case strings.HasSuffix(r.URL.Path, "/admin/workspaces/getInfo"):
		f.getInfo(w, r)
	case strings.Contains(r.URL.Path, "/admin/workspaces/scanStatus/"):
		f.inFlight.Add(0)
		n := f.polls.Add(1)
		status := "Running"
		if n >= f.pollsToEnd {
			status = "SUCCEEDED" // keys and values vary in case
			if f.failScan {
				_, _ = w.Write([]byte(`{"id":"e7d03602-4873-4760-b37e-1563ef5358e3","status":"Failed","error":{"code":"ScanFailed","message":"Workspace is being moved"}}`))
				return
			}
		}
		fmt.Fprintf(w, `{"ID":"e7d03602-4873-4760-b37e-1563ef5358e3","createdDateTime":"2020-06-15T16:46:28.0487687Z","STATUS":%q}`, status)
	case strings.Contains(r.URL.Path, "/admin/workspaces/scanResult/"):
		f.inFlight.Add(-1)
		_, _ = w.Write(f.result)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (f *fakeTenant) getInfo(w http.ResponseWriter, r *http.Request) {
	if f.throttle.Add(-1) >= 0 {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"message":"You have exceeded the amount of requests allowed in the current time frame and further requests will fail. Retry in 1 seconds."}`))
		return
	}
	for _, p := range []string{"lineage", "datasourceDetails", "datasetSchema", "datasetExpressions", "getArtifactUsers"} {
		if r.URL.Query().Get(p) != "true" {
			f.t.Errorf("getInfo without %s=true: %s", p, r.URL.RawQuery)
		}
	}
	var body struct{ Workspaces []string }
	b, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(b, &body)
	f.mu.Lock()
	f.getInfos = append(f.getInfos, body.Workspaces)
	f.mu.Unlock()
	if n := f.inFlight.Add(1); n > f.maxFlight.Load() {
		f.maxFlight.Store(n)
	}
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write(sample(f.t, "mslearn-getinfo-202.json"))
}

func newTenant(t *testing.T) (*fakeTenant, *Client) {
	t.Helper()
	f := &fakeTenant{t: t, pollsToEnd: 3, result: sample(t, "datahub-scanresult-multi-platform.json")}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := New(Config{TenantID: "contoso.onmicrosoft.com", ClientID: "app-id", ClientSecret: "very-secret-value",
		APIURL: srv.URL, LoginURL: srv.URL, PollInterval: time.Millisecond, MaxPollInterval: 4 * time.Millisecond,
		Retry: transport.RetryConfig{MaxRetries: 2, WaitMin: 10 * time.Millisecond, WaitMax: 2 * time.Second, Timeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

// The whole workflow against recorded answers: one token, the modified
// workspaces, a scan that takes several polls, and lineage from its result.
func TestScanWorkflow(t *testing.T) {
	f, c := newTenant(t)
	ctx := context.Background()
	ids, err := c.ModifiedWorkspaces(ctx)
	if err != nil || strings.Join(ids, ",") != "3740504d-1f93-42f9-8e9d-c8ba9b787a3b,19cb346c-9839-4e19-81e6-76364d0b836f" {
		t.Fatalf("modified: %v %v", ids, err)
	}
	res, err := c.Scan(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if f.polls.Load() < 3 {
		t.Fatalf("the scan ended after %d polls, want it polled until it succeeded", f.polls.Load())
	}
	if f.tokenCalls != 1 || !strings.Contains(f.tokenForm, "grant_type=client_credentials") || !strings.Contains(f.tokenForm, "scope=https%3A%2F%2Fanalysis.windows.net%2Fpowerbi%2Fapi%2F.default") {
		t.Fatalf("token requests %d, form %s", f.tokenCalls, f.tokenForm)
	}
	ws := res.Workspaces[0]
	l := res.ReportLineage(res.Datasets(), ws.Reports[0])
	var names []string
	for _, tb := range l.Tables {
		names = append(names, strings.ToLower(tb.FullName()))
	}
	if !strings.Contains(strings.Join(names, ","), "pbi_test.test.testtable") {
		t.Fatalf("lineage of %s: %v (problems %v)", ws.Reports[0].Name, names, l.Problems)
	}
	if !strings.Contains(strings.Join(l.Problems, "\n"), "public issue_history") {
		t.Fatalf("the table whose M is %q should be explained: %v", "dummy", l.Problems)
	}
	if got := ReportURL(ws.ID, ws.Reports[0]); got != "https://app.powerbi.com/groups/"+ws.ID+"/reports/"+ws.Reports[0].ID {
		t.Fatalf("url %s", got)
	}
}

// Entra ID's refusals name the setting to fix, and never the secret.
func TestTokenErrors(t *testing.T) {
	for _, c := range []struct {
		file string
		code int
		want []string
	}{
		{"entra-token-error-401-invalid-client-secret.json", 401, []string{"invalid_client", "AADSTS7000215", "Check client_secret"}},
		{"entra-token-error-400-invalid-scope.json", 400, []string{"invalid_scope", "AADSTS70011", "same cloud"}},
	} {
		f, client := newTenant(t)
		f.tokenFail, f.tokenCode = c.file, c.code
		_, err := client.ModifiedWorkspaces(context.Background())
		if err == nil {
			t.Fatalf("%s: no error", c.file)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", c.file, err, w)
			}
		}
		if strings.Contains(err.Error(), "very-secret-value") {
			t.Fatalf("the secret is in the error: %v", err)
		}
	}
}

// A service principal without admin API access gets the tenant setting named.
func TestNotAuthorizedNamesTenantSetting(t *testing.T) {
	f, _ := newTenant(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/token") { // a token Power BI does not accept
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"token_type":"Bearer","expires_in":3599,"access_token":"other"}`))
			return
		}
		f.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c2, _ := New(Config{TenantID: "t", ClientID: "c", ClientSecret: "s", APIURL: srv.URL, LoginURL: srv.URL})
	_, err := c2.ModifiedWorkspaces(context.Background())
	if err == nil || !strings.Contains(err.Error(), "PowerBINotAuthorizedException") || !strings.Contains(err.Error(), "Service principals can access read-only admin APIs") {
		t.Fatalf("got %v", err)
	}
}

// A 429 is waited out for its Retry-After, then the scan goes on.
func TestScanHonours429(t *testing.T) {
	f, c := newTenant(t)
	f.throttle.Store(1)
	start := time.Now()
	if _, err := c.Scan(context.Background(), []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("Retry-After: 1 not honoured (%s)", waited)
	}
	if len(f.getInfos) != 1 {
		t.Fatalf("getInfo accepted %d times, want 1", len(f.getInfos))
	}
}

// A failed scan fails the read with Power BI's reason.
func TestFailedScan(t *testing.T) {
	f, c := newTenant(t)
	f.failScan = true
	_, err := c.Scan(context.Background(), []string{"a"})
	if err == nil || !strings.Contains(err.Error(), "ScanFailed Workspace is being moved") {
		t.Fatalf("got %v", err)
	}
}

// 250 workspaces are scanned in chunks of at most 100, at most 16 at once.
func TestScanChunks(t *testing.T) {
	f, c := newTenant(t)
	f.pollsToEnd = 0
	ids := make([]string, 250)
	for i := range ids {
		ids[i] = fmt.Sprintf("ws-%03d", i)
	}
	res, err := c.Scan(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, chunk := range f.getInfos {
		if len(chunk) > MaxWorkspacesPerScan {
			t.Fatalf("a getInfo of %d workspaces", len(chunk))
		}
		for _, id := range chunk {
			seen[id] = true
		}
	}
	if len(f.getInfos) != 3 || len(seen) != 250 || len(res.Workspaces) != 3 {
		t.Fatalf("%d getInfo calls covering %d workspaces, %d results", len(f.getInfos), len(seen), len(res.Workspaces))
	}
	if f.maxFlight.Load() > MaxScansInFlight {
		t.Fatalf("%d scans in flight", f.maxFlight.Load())
	}
}

// A report whose dataset lives in another workspace still gets its lineage.
func TestReportWithDatasetElsewhere(t *testing.T) {
	var res ScanResult
	if err := json.Unmarshal(sample(t, "datahub-scanresult-multi-platform.json"), &res); err != nil {
		t.Fatal(err)
	}
	home := res.Workspaces[0]
	rep := home.Reports[0]
	rep.DatasetWorkspaceID = "other-workspace"
	res.Workspaces = []Workspace{{ID: "reports-only", Name: "Reports", Reports: []Report{rep}},
		{ID: "other-workspace", Name: "Models", Datasets: home.Datasets}}
	l := res.ReportLineage(res.Datasets(), res.Workspaces[0].Reports[0])
	if len(l.Tables) == 0 {
		t.Fatalf("no lineage across workspaces: %v", l.Problems)
	}
	missing := res.ReportLineage(map[string]*Dataset{}, rep)
	if len(missing.Tables) != 0 || !strings.Contains(strings.Join(missing.Problems, ""), "was not in the scan") {
		t.Fatalf("a dataset outside the scan: %+v", missing)
	}
}

// The documented hourly limit holds: the 31st modified call of the hour waits
// for budget, and gives up with the limit named when the context ends first.
func TestHourlyLimits(t *testing.T) {
	_, c := newTenant(t)
	for i := 0; i < 30; i++ {
		if _, err := c.ModifiedWorkspaces(context.Background()); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.ModifiedWorkspaces(ctx)
	if err == nil || !strings.Contains(err.Error(), "allows 30 admin/workspaces/modified calls an hour") {
		t.Fatalf("31st call: %v", err)
	}
	if waited := time.Since(start); waited > time.Second {
		t.Fatalf("waited %s past its context", waited)
	}
}
