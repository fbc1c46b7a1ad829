package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/logtest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	pbiemulator "github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store/pgtest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// The test binary doubles as the server binary, so these tests run the real
// command in a child process that can be killed with SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("DBTEXPOSURES_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(pgtest.Main(m))
}

func command(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "DBTEXPOSURES_RUN_MAIN=1")
	return cmd
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServe runs `serve` and waits for it to answer with token.
func startServe(t *testing.T, addr, db, token string, more ...string) *exec.Cmd {
	t.Helper()
	cmd := command(t, append([]string{"serve", "--listen", addr, "--db", db, "--bootstrap-token", token}, more...)...)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for i := 0; i < 200; i++ {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v2/accounts/", nil)
		req.Header.Set("Authorization", "Token "+token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server did not start: %s", logs.String())
	return nil
}

type created struct {
	AccountID int64  `json:"account_id"`
	ProjectID int64  `json:"project_id"`
	Token     string `json:"token"`
}

func TestAdminCreateAccountWhileServing(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	addr := freeAddr(t)
	startServe(t, addr, db, "boot")
	out, err := command(t, "admin", "create-account", "--db", db, "--name", "Analytics").Output()
	if err != nil {
		t.Fatalf("create-account: %v", err)
	}
	var c created
	if err := json.Unmarshal(out, &c); err != nil || c.AccountID != 2 || c.ProjectID == 0 || c.Token == "" {
		t.Fatalf("output %q: %v", out, err)
	}
	// The running server accepts the new token for the new account only.
	client, _ := dbtcloud.New(dbtcloud.Config{HostURL: "http://" + addr + "/api", AccountID: c.AccountID, Token: c.Token})
	ps, err := client.ListProjects(context.Background())
	if err != nil || len(ps) != 1 || ps[0].ID != c.ProjectID {
		t.Fatalf("projects: %+v %v", ps, err)
	}
	other, _ := dbtcloud.New(dbtcloud.Config{HostURL: "http://" + addr + "/api", AccountID: 1, Token: c.Token})
	if _, err := other.ListProjects(context.Background()); !dbtcloud.IsForbidden(err) {
		t.Fatalf("new token on account 1: %v", err)
	}
	// The token is stored hashed: its text is nowhere in the database files.
	for _, f := range []string{db, db + "-wal"} {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte(c.Token)) {
			t.Fatalf("plain API token found in %s", f)
		}
	}
}

func TestNothingAcknowledgedIsLostOnKill9(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	addr := freeAddr(t)
	srv := startServe(t, addr, db, "boot")
	var accounts []created
	for i := 0; i < 5; i++ {
		out, err := command(t, "admin", "create-account", "--db", db, "--name", fmt.Sprint("a", i)).Output()
		if err != nil {
			t.Fatal(err)
		}
		var c created
		_ = json.Unmarshal(out, &c)
		accounts = append(accounts, c)
	}
	ctx := context.Background()
	acked := map[int64]int64{} // account -> integration acknowledged with 200
	for _, a := range accounts {
		c, _ := dbtcloud.New(dbtcloud.Config{HostURL: "http://" + addr + "/api", AccountID: a.AccountID, Token: a.Token})
		host, site, name, tok := "h", "s", "n", "t"
		in, err := c.CreateLineageIntegration(ctx, a.ProjectID, dbtcloud.CreateLineageIntegrationRequest{Name: "tableau",
			Config: dbtcloud.IntegrationConfig{Host: &host, SiteID: &site, TokenName: &name, Token: &tok}})
		if err != nil {
			t.Fatal(err)
		}
		acked[a.AccountID] = in.ID
	}
	if err := srv.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = srv.Wait()

	startServe(t, addr, db, "boot")
	for _, a := range accounts {
		c, _ := dbtcloud.New(dbtcloud.Config{HostURL: "http://" + addr + "/api", AccountID: a.AccountID, Token: a.Token})
		got, err := c.GetLineageIntegration(ctx, a.ProjectID, acked[a.AccountID])
		if err != nil || got.Name != "tableau" {
			t.Fatalf("account %d lost its acknowledged integration: %v", a.AccountID, err)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"bogus"}, &stdout, &stderr); err == nil || !strings.Contains(stderr.String(), "Usage") {
		t.Fatalf("unknown command: %v %q", err, stderr.String())
	}
	if err := run(context.Background(), []string{"admin", "create-account", "--db", filepath.Join(t.TempDir(), "d")}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "--name") {
		t.Fatalf("missing name: %v", err)
	}
	err := run(context.Background(), []string{"serve", "--log-level", "loud", "--db", filepath.Join(t.TempDir(), "d")}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), `--log-level (or DBTEXPOSURES_LOG_LEVEL) "loud" is not one of trace, debug, info, warn, error`) {
		t.Fatalf("bad log level: %v", err)
	}
}

// The server refuses to start on a value it cannot use, and names it.
func TestServeRefusesInvalidSettings(t *testing.T) {
	cases := []struct {
		env, value string
		args       []string
		want       string
	}{
		{"DBTEXPOSURES_SYNC_INTERVAL", "soon", nil, `DBTEXPOSURES_SYNC_INTERVAL="soon" is not a valid --sync-interval`},
		{"DBTEXPOSURES_TABLEAU_CACHE_TTL", "5 minutes", nil, `DBTEXPOSURES_TABLEAU_CACHE_TTL="5 minutes" is not a valid --tableau-cache-ttl`},
		{"", "", []string{"--sync-interval", "-1h"}, "--sync-interval (or DBTEXPOSURES_SYNC_INTERVAL) must not be negative"},
		{"", "", []string{"--tableau-cache-ttl", "0s"}, "--tableau-cache-ttl (or DBTEXPOSURES_TABLEAU_CACHE_TTL) must be positive"},
		{"", "", []string{"--refresh-timeout", "0s"}, "--refresh-timeout (or DBTEXPOSURES_REFRESH_TIMEOUT) must be positive"},
		{"DBTEXPOSURES_REFRESH_TIMEOUT", "soon", nil, `DBTEXPOSURES_REFRESH_TIMEOUT="soon" is not a valid --refresh-timeout`},
		{"DBTEXPOSURES_TABLEAU_ALLOWED_HOSTS", "10.0.0.0/33", nil, `--tableau-allowed-hosts: "10.0.0.0/33" is not a CIDR`},
		{"", "", []string{"--tableau-allowed-hosts", "tableau.example.com,tab leau"}, `--tableau-allowed-hosts: "tab leau" is neither a host name`},
		{"", "", []string{"--powerbi-api-url", "api.powerbi.com"}, `--powerbi-api-url (or DBTEXPOSURES_POWERBI_API_URL) "api.powerbi.com" must be an http(s) URL`},
		{"DBTEXPOSURES_POWERBI_LOGIN_URL", "ftp://login", nil, `--powerbi-login-url (or DBTEXPOSURES_POWERBI_LOGIN_URL) "ftp://login" must be an http(s) URL`},
	}
	for _, c := range cases {
		if c.env != "" {
			t.Setenv(c.env, c.value)
		}
		var stdout, stderr bytes.Buffer
		db := filepath.Join(t.TempDir(), "d.db")
		err := run(context.Background(), append([]string{"serve", "--db", db, "--listen", "127.0.0.1:0"}, c.args...), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%q %v: got %v, want %q", c.env, c.value, c.args, err, c.want)
		}
		if _, statErr := os.Stat(db); statErr == nil {
			t.Errorf("%s=%q %v: the server opened its database before refusing", c.env, c.value, c.args)
		}
		if c.env != "" {
			os.Unsetenv(c.env)
		}
	}
}

// admin create-environment adds an environment beside the bootstrap's Production.
func TestAdminCreateEnvironment(t *testing.T) {
	db := filepath.Join(t.TempDir(), "d.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Bootstrap(context.Background(), "tok"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"admin", "create-environment", "--db", db, "--project", "1", "--name", "Staging", "--deployment-type", "staging"}, &stdout, &stderr); err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"environment_id":2`) || !strings.Contains(stdout.String(), `"name":"Staging"`) {
		t.Fatalf("output: %s", stdout.String())
	}
	err = run(context.Background(), []string{"admin", "create-environment", "--db", db, "--project", "1", "--name", "Staging"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), `project 1 already has an environment named "Staging"`) {
		t.Fatalf("duplicate: %v", err)
	}
	err = run(context.Background(), []string{"admin", "create-environment", "--db", db, "--project", "1", "--name", "QA", "--deployment-type", "qa"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), `--deployment-type must be production, staging or empty, got "qa"`) {
		t.Fatalf("bad type: %v", err)
	}
}

// powerbi-emulator serves a fixture that our client can scan, and refuses
// what it cannot use.
func TestPowerBIEmulatorCommand(t *testing.T) {
	var stderr strings.Builder
	if err := run(context.Background(), []string{"powerbi-emulator"}, io.Discard, &stderr); err == nil || !strings.Contains(err.Error(), "--fixture is required") {
		t.Fatalf("no fixture: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "internal", "powerbi", "testdata", "datahub-scanresult-multi-platform.json"))
	if err != nil {
		t.Fatal(err)
	}
	fixture := filepath.Join(t.TempDir(), "tenant.json")
	b, _ := json.Marshal(map[string]any{"tenant_id": "contoso", "client_id": "app", "client_secret": "s3cret", "scan_result": json.RawMessage(raw)})
	if err := os.WriteFile(fixture, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"powerbi-emulator", "--fixture", fixture, "--scan-polls", "0"}, io.Discard, &stderr); err == nil || !strings.Contains(err.Error(), "--scan-polls") {
		t.Fatalf("zero polls: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"powerbi-emulator", "--listen", addr, "--fixture", fixture}, io.Discard, io.Discard)
	}()
	defer func() { cancel(); <-done }()
	c, err := powerbi.New(powerbi.Config{TenantID: "contoso", ClientID: "app", ClientSecret: "s3cret", APIURL: "http://" + addr, LoginURL: "http://" + addr,
		PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ids, err = c.ModifiedWorkspaces(context.Background()); err == nil {
			break
		}
	}
	if err != nil || len(ids) != 1 {
		t.Fatalf("modified: %v %v", ids, err)
	}
	if res, err := c.Scan(context.Background(), ids); err != nil || len(res.Workspaces) != 1 {
		t.Fatalf("scan: %v", err)
	}
}

// The flags are named for what they govern; the names from when they governed
// Tableau alone still work, with one warning, and both at once is an error.
func TestRenamedFlags(t *testing.T) {
	o, err := parseServe([]string{"--bi-cache-ttl", "7m", "--allowed-hosts", "127.0.0.1"}, io.Discard)
	if err != nil || o.ttl != 7*time.Minute || len(o.warnings) != 0 || !o.egress.Restricted() {
		t.Fatalf("new names: %+v, %v", o, err)
	}
	o, err = parseServe([]string{"--tableau-cache-ttl", "9m", "--tableau-allowed-hosts", "127.0.0.1"}, io.Discard)
	if err != nil || o.ttl != 9*time.Minute || !o.egress.Restricted() || len(o.warnings) != 2 ||
		!strings.Contains(o.warnings[0], "--tableau-allowed-hosts (or DBTEXPOSURES_TABLEAU_ALLOWED_HOSTS) is deprecated: use --allowed-hosts") ||
		!strings.Contains(o.warnings[1], "--tableau-cache-ttl (or DBTEXPOSURES_TABLEAU_CACHE_TTL) is deprecated: use --bi-cache-ttl") {
		t.Fatalf("old names: %+v, %v", o, err)
	}
	t.Setenv("DBTEXPOSURES_TABLEAU_CACHE_TTL", "3m")
	_, err = parseServe([]string{"--bi-cache-ttl", "7m"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--tableau-cache-ttl (or DBTEXPOSURES_TABLEAU_CACHE_TTL) and --bi-cache-ttl (or DBTEXPOSURES_BI_CACHE_TTL) are both set") {
		t.Fatalf("both names: %v", err)
	}
}

// A server started with a deprecated name says so once in its log.
func TestDeprecatedFlagWarnsOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stderr logtest.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--db", filepath.Join(t.TempDir(), "d.db"), "--listen", "127.0.0.1:0", "--tableau-cache-ttl", "1m"}, io.Discard, &stderr)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "listening") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if n := strings.Count(stderr.String(), "is deprecated: use --bi-cache-ttl"); n != 1 {
		t.Fatalf("want one deprecation warning, got %d:\n%s", n, stderr.String())
	}
}

// --help succeeds for every command, after printing its usage.
func TestHelpExitsZeroEverywhere(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"admin", "--help"}, {"admin", "create-account", "--help"},
		{"admin", "create-environment", "-h"}, {"tableau-emulator", "--help"}, {"powerbi-emulator", "--help"}} {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), args, &stdout, &stderr); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(stdout.String()+stderr.String(), "Usage") {
			t.Errorf("%v printed no usage", args)
		}
	}
}

// A second server process on the SQLite file another one serves is refused
// at start with a message that says what to do; one-off admin commands on it
// still work.
func TestSecondServerOnOneSQLiteFileIsRefused(t *testing.T) {
	db := filepath.Join(t.TempDir(), "one.db")
	startServe(t, freeAddr(t), db, "tok")
	out, err := command(t, "serve", "--listen", freeAddr(t), "--db", db).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "another dbtexposures-server process serves this database") ||
		!strings.Contains(string(out), "stop the other process first") {
		t.Fatalf("the second server: %v\n%s", err, out)
	}
	if out, err := command(t, "admin", "create-account", "--db", db, "--name", "Second").CombinedOutput(); err != nil {
		t.Fatalf("an admin command beside the server: %v\n%s", err, out)
	}
}

// A PostgreSQL URL's password appears neither in the error of a server
// that cannot reach the database nor in its logs.
func TestDatabasePasswordIsRedacted(t *testing.T) {
	const password = "Pa55-w0rd-ZZZ"
	dsn := "postgres://dbtx:" + password + "@" + freeAddr(t) + "/dbtexposures?sslmode=disable&connect_timeout=2"
	out, err := command(t, "serve", "--listen", freeAddr(t), "--db", dsn).CombinedOutput()
	if err == nil || strings.Contains(string(out), password) || !strings.Contains(string(out), "REDACTED") {
		t.Fatalf("serve on an unreachable PostgreSQL: %v\n%s", err, out)
	}
	if got := store.RedactDSN("postgres://u@h/db?password=" + password); strings.Contains(got, password) {
		t.Fatalf("a password= parameter: %s", got)
	}
}

// On SIGTERM the server stops taking connections, finishes the request in
// flight (a manifest upload still arriving) and exits 0.
func TestGracefulShutdown(t *testing.T) {
	addr, db := freeAddr(t), filepath.Join(t.TempDir(), "d.db")
	cmd := startServe(t, addr, db, "tok")
	manifest, err := os.ReadFile(filepath.Join("..", "..", "examples", "demo", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	body, w := io.Pipe()
	answer := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("PUT", "http://"+addr+"/api/v3/accounts/1/projects/1/manifest/", body)
		req.Header.Set("Authorization", "Token tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answer <- 0
			return
		}
		resp.Body.Close()
		answer <- resp.StatusCode
	}()
	if _, err := w.Write(manifest[:len(manifest)/2]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the upload is in its handler
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("the server took a new connection after SIGTERM")
	}
	if _, err := w.Write(manifest[len(manifest)/2:]); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if code := <-answer; code != 200 {
		t.Fatalf("the upload in flight at SIGTERM: %d", code)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the server's exit after SIGTERM: %v", err)
	}
}

// admin copy moves a SQLite database to PostgreSQL; a server still serving
// the file, or a destination with data, is refused.
func TestAdminCopyToPostgreSQL(t *testing.T) {
	db := filepath.Join(t.TempDir(), "src.db")
	out, err := command(t, "admin", "create-account", "--db", db, "--name", "Analytics").Output()
	var acct created
	if err != nil || json.Unmarshal(out, &acct) != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	dsn := pgtest.DSN(t)
	out, err = command(t, "admin", "copy", "--from", "sqlite:"+db, "--to", dsn).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"accounts":1`) {
		t.Fatalf("admin copy: %v\n%s", err, out)
	}
	st, err := store.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if a, err := st.GetAccount(context.Background(), 1); err != nil || a.Name != "Analytics" {
		t.Fatalf("the copied account: %+v %v", a, err)
	}
	if out, err := command(t, "admin", "copy", "--from", "sqlite:"+db, "--to", dsn).CombinedOutput(); err == nil || !strings.Contains(string(out), "empty database") {
		t.Fatalf("a copy into a database with data: %v\n%s", err, out)
	}
	startServe(t, freeAddr(t), db, acct.Token)
	if out, err := command(t, "admin", "copy", "--from", db, "--to", pgtest.DSN(t)).CombinedOutput(); err == nil || !strings.Contains(string(out), "stop the other process first") {
		t.Fatalf("a copy of a file a server serves: %v\n%s", err, out)
	}
}

// Two replicas on one PostgreSQL database; the one running an active
// exposure run is killed with -9 while its refresh jobs run. The other takes
// the run over once the killed one's lock has ended with its connection: the
// refreshes in flight are reported unknown with their jobs, and none is sent
// again.
func TestReplicaKilledMidRunIsTakenOver(t *testing.T) {
	dsn, emu, tab, f := demoOnPostgres(t)
	emu.JobPolls = 1 << 30 // the refresh jobs never finish
	addrA := freeAddr(t)
	a := startServe(t, addrA, dsn, "tok")
	b := freeAddr(t)
	// A refresh the dead server never sent is sent by the survivor; its job never
	// finishes either, so it fails after this timeout.
	startServe(t, b, dsn, "tok", "--sync-interval", "200ms", "--refresh-timeout", "2s")
	setUpActiveProject(t, "http://"+addrA+"/api", tab.URL, f)
	rr, err := os.ReadFile(filepath.Join("..", "..", "examples", "demo", "run_results.json"))
	if err != nil {
		t.Fatal(err)
	}
	go func() { // answered by nobody: its server dies
		_, _ = apiCall("http://"+addrA+"/api", "POST", "active-exposures/runs/", []byte(`{"environment_id": 1, "run_results": `+string(rr)+`}`))
	}()
	for deadline := time.Now().Add(10 * time.Second); len(emu.Refreshes()) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the run sent %d refreshes", len(emu.Refreshes()))
		}
	}
	time.Sleep(500 * time.Millisecond) // the jobs' IDs are recorded
	sent := map[string]bool{}
	for _, j := range emu.Refreshes() {
		sent[j.TargetID] = true
	}
	if err := a.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	run := waitRunEnded(t, "http://"+b+"/api")
	if !strings.Contains(string(run.Refreshes), `"action":"unknown"`) || !strings.Contains(string(run.Refreshes), "check Tableau job") {
		t.Fatalf("the run after the takeover: %s %s", run.Status, run.Refreshes)
	}
	times := map[string]int{}
	for _, j := range emu.Refreshes() {
		if times[j.TargetID]++; sent[j.TargetID] && times[j.TargetID] > 1 {
			t.Fatalf("%s %s, sent before the kill, was sent again after the takeover", j.TargetType, j.TargetName)
		}
	}
}

// setUpActiveProject gives project 1 a Tableau integration watching Finance
// and Customer 360 on the demo site, the demo's manifest, a sync, and
// active exposures on.
func setUpActiveProject(t *testing.T, host, tableauURL string, f *emulator.Fixture) {
	t.Helper()
	c, err := dbtcloud.New(dbtcloud.Config{HostURL: host, AccountID: 1, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	site, name, tok := f.Site.ContentURL, f.PersonalAccessToken.Name, f.PersonalAccessToken.Secret
	in, err := c.CreateLineageIntegration(ctx, 1, dbtcloud.CreateLineageIntegrationRequest{Name: "tableau",
		Config: dbtcloud.IntegrationConfig{Host: &tableauURL, SiteID: &site, TokenName: &name, Token: &tok}})
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := os.ReadFile(filepath.Join("..", "..", "examples", "demo", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range []struct {
		method, path string
		body         []byte
	}{
		{"PUT", "manifest/", manifest},
		{"POST", "environment-variables/bulk/", []byte(`{"env_var": {"new_name": "DBT_ACTIVE_EXPOSURES", "project": "0", "Production": "1"}}`)},
	} {
		if b, err := apiCall(host, call.method, call.path, call.body); err != nil {
			t.Fatalf("%s %s: %v %s", call.method, call.path, err, b)
		}
	}
	if _, err := c.UpdateSelections(ctx, 1, in.ID, dbtcloud.SelectionChange{ToAdd: []dbtcloud.WatchSelectionItem{
		{Identifier: f.Projects[1].ID, Name: "Finance", Type: dbtcloud.ItemFolder},
		{Identifier: "00000004-0000-4000-8000-000000000003", Name: "Customer 360", Type: dbtcloud.ItemDashboard}}}); err != nil {
		t.Fatal(err)
	}
	if b, err := apiCall(host, "POST", "exposures/sync/", nil); err != nil || !strings.Contains(string(b), "customer_360") {
		t.Fatalf("sync: %v %s", err, b)
	}
}

// apiCall calls project 1 of the server with the token "tok"; a status over
// 299 is an error.
func apiCall(host, method, path string, body []byte) ([]byte, error) {
	req, _ := http.NewRequest(method, host+"/v3/accounts/1/projects/1/"+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Token tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode > 299 {
		return b, fmt.Errorf("status %d", resp.StatusCode)
	}
	return b, nil
}

type runState struct {
	Status    string          `json:"status"`
	Refreshes json.RawMessage `json:"refreshes"`
}

// waitRunEnded waits for the project's newest run to be no longer running.
func waitRunEnded(t *testing.T, host string) runState {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		b, err := apiCall(host, "GET", "active-exposures/runs/", nil)
		var list struct{ Data []runState }
		if err == nil && json.Unmarshal(b, &list) == nil && len(list.Data) > 0 && list.Data[0].Status != "running" {
			return list.Data[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run did not end: %v %s", err, b)
		}
	}
}

// A load of 32 accounts spread over two replicas on one PostgreSQL
// database, one replica killed with -9 halfway: every write either replica
// acknowledged is stored, and the survivor answers every request after the
// kill with a 2xx.
func TestLoadAcrossReplicasSurvivesAKill(t *testing.T) {
	dsn := pgtest.DSN(t)
	addrA, addrB := freeAddr(t), freeAddr(t)
	a := startServe(t, addrA, dsn, "boot")
	startServe(t, addrB, dsn, "boot")
	type account struct {
		created
		host string
	}
	var accounts []account
	st, err := store.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range 32 {
		var c created
		if c.AccountID, c.ProjectID, c.Token, err = st.CreateAccount(context.Background(), fmt.Sprint("load-", i)); err != nil {
			t.Fatal(err)
		}
		host := "http://" + addrA
		if i%2 == 1 {
			host = "http://" + addrB
		}
		accounts = append(accounts, account{c, host})
	}
	var killed atomic.Bool
	var mu sync.Mutex
	acked := map[int64][]string{} // project -> variables acknowledged
	var failedAfterKill []string
	var wg sync.WaitGroup
	stop := time.Now().Add(3 * time.Second)
	for _, acct := range accounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; time.Now().Before(stop); n++ {
				host := acct.host
				if killed.Load() {
					host = "http://" + addrB // the load balancer drops the dead replica
				}
				name := fmt.Sprintf("DBT_LOAD_%d", n)
				body := fmt.Sprintf(`{"env_var": {"new_name": %q, "project": "%d"}}`, name, n)
				url := fmt.Sprintf("%s/api/v3/accounts/%d/projects/%d/environment-variables/bulk/", host, acct.AccountID, acct.ProjectID)
				req, _ := http.NewRequest("POST", url, strings.NewReader(body))
				req.Header.Set("Authorization", "Token "+acct.Token)
				sentAfterKill := killed.Load()
				resp, err := http.DefaultClient.Do(req)
				ok := err == nil && resp.StatusCode/100 == 2
				if resp != nil {
					resp.Body.Close()
				}
				mu.Lock()
				if ok {
					acked[acct.ProjectID] = append(acked[acct.ProjectID], name)
				} else if sentAfterKill {
					failedAfterKill = append(failedAfterKill, fmt.Sprintf("%s: %v", url, err))
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := a.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed.Store(true)
	wg.Wait()
	if len(failedAfterKill) > 0 {
		t.Fatalf("%d requests to the survivor after the kill failed, e.g. %s", len(failedAfterKill), failedAfterKill[0])
	}
	checkAcknowledged(t, dsn, acked)
}

// checkAcknowledged reads every acknowledged variable back from the database.
func checkAcknowledged(t *testing.T, dsn string, acked map[int64][]string) {
	t.Helper()
	st, err := store.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	total := 0
	for project, names := range acked {
		vars, err := st.EnvVars(context.Background(), project)
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, v := range vars {
			have[v.Name] = true
		}
		for _, n := range names {
			if !have[n] {
				t.Fatalf("project %d: acknowledged %s is not stored", project, n)
			}
		}
		total += len(names)
	}
	if total < 100 {
		t.Fatalf("only %d writes were acknowledged: the load did not run", total)
	}
	t.Logf("%d acknowledged writes, every one stored", total)
}

// syncsRun is how many syncs the server processes ran, from their metrics.
func syncsRun(t *testing.T, hosts ...string) int {
	t.Helper()
	n := 0
	for _, h := range hosts {
		resp, err := http.Get(h + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, m := range regexp.MustCompile(`(?m)^dbtexposures_sync_duration_seconds_count\{outcome="\w+"\} (\d+)$`).FindAllStringSubmatch(string(b), -1) {
			v, _ := strconv.Atoi(m[1])
			n += v
		}
	}
	return n
}

// Three server processes on one PostgreSQL database: a sync asked of two at
// once runs once; one dbt run posted to two at once refreshes each target
// once, one answer 201 and the other 200 with the same run.
func TestThreeReplicaProcesses(t *testing.T) {
	dsn, emu, tab, f := demoOnPostgres(t)
	var hosts []string
	for range 3 {
		addr := freeAddr(t)
		startServe(t, addr, dsn, "tok")
		hosts = append(hosts, "http://"+addr)
	}
	setUpActiveProject(t, hosts[0]+"/api", tab.URL, f)
	checkSyncOnce(t, dsn, hosts[:2])
	checkRunOnce(t, emu, hosts[1:])
}

// Three server processes with a 300 ms schedule fire it once per period
// between them, not once each.
func TestScheduleAcrossReplicaProcesses(t *testing.T) {
	dsn, _, tab, f := demoOnPostgres(t)
	const interval = 300 * time.Millisecond
	var hosts []string
	for range 3 {
		addr := freeAddr(t)
		startServe(t, addr, dsn, "tok", "--sync-interval", interval.String())
		hosts = append(hosts, "http://"+addr)
	}
	setUpActiveProject(t, hosts[0]+"/api", tab.URL, f)
	before, start := syncsRun(t, hosts...), time.Now()
	time.Sleep(2400 * time.Millisecond)
	ran, periods := syncsRun(t, hosts...)-before, int(time.Since(start)/interval)
	if ran < 2 || ran > periods+1 {
		t.Fatalf("%d scheduled syncs on three servers in %d periods: want one per period", ran, periods)
	}
}

// checkSyncOnce asks two servers to sync at once, both requests recorded
// while the project's sync lock is held, and counts the syncs that ran.
func checkSyncOnce(t *testing.T, dsn string, hosts []string) {
	t.Helper()
	st, err := store.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	release, err := st.Lock(ctx, store.LockSync, 1)
	if err != nil {
		t.Fatal(err)
	}
	before := syncsRun(t, hosts...)
	requested, _, _ := st.SyncState(ctx, 1)
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = apiCall(h+"/api", "POST", "exposures/sync/", nil) }()
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if now, _, _ := st.SyncState(ctx, 1); now >= requested+2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sync requests were not recorded")
		}
	}
	release()
	wg.Wait()
	if ran := syncsRun(t, hosts...) - before; ran != 1 {
		t.Fatalf("a sync asked of two server processes at once ran %d times", ran)
	}
}

// checkRunOnce posts one dbt run to two servers at once.
func checkRunOnce(t *testing.T, emu *emulator.Emulator, hosts []string) {
	t.Helper()
	rr, err := os.ReadFile(filepath.Join("..", "..", "examples", "demo", "run_results.json"))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"environment_id": 1, "run_results": ` + string(rr) + `}`)
	var wg sync.WaitGroup
	codes := make([]int, len(hosts))
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", h+"/api/v3/accounts/1/projects/1/active-exposures/runs/", bytes.NewReader(body))
			req.Header.Set("Authorization", "Token tok")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				codes[i] = resp.StatusCode
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	slices.Sort(codes)
	if codes[0] != 200 || codes[1] != 201 {
		t.Fatalf("answers %v: want one 201 and one 200", codes)
	}
	seen := map[string]bool{}
	for _, j := range emu.Refreshes() {
		if seen[j.TargetID] {
			t.Fatalf("%s %s refreshed twice", j.TargetType, j.TargetName)
		}
		seen[j.TargetID] = true
	}
}

// demoOnPostgres is a new PostgreSQL database and the demo's Tableau site.
func demoOnPostgres(t *testing.T) (string, *emulator.Emulator, *httptest.Server, *emulator.Fixture) {
	t.Helper()
	f, err := emulator.LoadFixture(filepath.Join("..", "..", "examples", "demo", "tableau-site.json"))
	if err != nil {
		t.Fatal(err)
	}
	emu, tab := tableautest.NewServer(t, f)
	return pgtest.DSN(t), emu, tab, f
}

// powerbi-emulator --tls-self-signed serves HTTPS with a certificate of the
// CA it writes; a client trusting that CA gets the discovery document, whose
// URLs are https, and a token.
func TestPowerBIEmulatorSelfSignedTLS(t *testing.T) {
	addr, ca := freeAddr(t), filepath.Join(t.TempDir(), "ca.pem")
	cmd := command(t, "powerbi-emulator", "--listen", addr, "--fixture", filepath.Join("..", "..", "examples", "demo", "powerbi-tenant.json"),
		"--tls-self-signed", ca)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	f, err := pbiemulator.LoadFixture(filepath.Join("..", "..", "examples", "demo", "powerbi-tenant.json"))
	if err != nil {
		t.Fatal(err)
	}
	var client *http.Client
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if pem, err := os.ReadFile(ca); err == nil && client == nil {
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(pem)
			client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		}
		if client != nil {
			if resp, err = client.Get("https://" + addr + "/" + f.TenantID + "/v2.0/.well-known/openid-configuration"); err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the emulator did not serve HTTPS with its CA: %v\n%s", err, logs.String())
		}
	}
	var doc map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if doc["token_endpoint"] != "https://"+addr+"/"+f.TenantID+"/oauth2/v2.0/token" || doc["jwks_uri"] == nil {
		t.Fatalf("discovery document: %v", doc)
	}
	tok, err := client.PostForm(doc["token_endpoint"].(string), url.Values{"grant_type": {"client_credentials"}, "client_id": {f.ClientID},
		"client_secret": {f.ClientSecret}, "scope": {"https://analysis.windows.net/powerbi/api/.default"}})
	if err != nil || tok.StatusCode != 200 {
		t.Fatalf("a token over TLS: %v %v", err, tok)
	}
	tok.Body.Close()
	out, err := command(t, "powerbi-emulator", "--listen", freeAddr(t), "--fixture", filepath.Join("..", "..", "examples", "demo", "powerbi-tenant.json"),
		"--tls-cert", "c.pem").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--tls-cert and --tls-key go together") {
		t.Fatalf("--tls-cert without --tls-key: %v\n%s", err, out)
	}
}
