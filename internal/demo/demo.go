// Package demo runs the whole stack on one machine: the Tableau and Power BI
// emulators and dbtexposures-server on a temporary database, then the real terraform CLI
// applying examples/demo with the locally built provider (installed from a
// local mirror, as a user would), then a second plan that must be empty.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
)

// Options say where things are.
type Options struct {
	BinDir    string // holds terraform-provider-dbtexposures and dbtexposures-server
	Version   string // the provider's version, as built into BinDir
	ConfigDir string // the Terraform configuration to apply (examples/demo)
	Fixture   string // the Tableau site the emulator serves (examples/demo/tableau-site.json)
	// PowerBI is the Power BI tenant its emulator serves (examples/demo/powerbi-tenant.json).
	PowerBI  string
	Manifest string // the dbt manifest (examples/demo/manifest.json)
	// RunResults is what `dbt build` of that project wrote (examples/demo/run_results.json).
	RunResults string
	WorkDir    string // scratch space; emptied first
	Terraform  string // terraform binary
	Out        io.Writer
}

const (
	demoToken      = "demo-bootstrap-token"
	demoTableauPAT = "demo-tableau-pat-secret"
	// The Power BI tenant's app registration, as examples/demo/powerbi-tenant.json has it.
	demoPowerBITenant, demoPowerBIClient, demoPowerBISecret = "jaffle-tenant", "dbt-demo-app", "demo-powerbi-secret"
)

// demo is one run: where things are and what it started.
type demo struct {
	Options
	server     string // the dbtexposures-server binary
	tableauURL string
	powerbiURL string
	hostURL    string // dbtexposures-server's API, as the provider's host_url
	tfDir      string
	env        []string // terraform's environment
	stops      []func()
}

// step is one stage of the story, told before it runs.
type step struct {
	title string
	run   func(context.Context) error
}

// Run runs the demo and returns an error naming the step that failed. It stops
// what it started.
func Run(ctx context.Context, o Options) error {
	d, err := newDemo(o)
	if err != nil {
		return err
	}
	defer d.stopAll()
	for _, st := range d.steps() {
		fmt.Fprintf(d.Out, "\n==> %s\n", st.title)
		if err := st.run(ctx); err != nil {
			return fmt.Errorf("%s: %w", st.title, err)
		}
	}
	return nil
}

func (d *demo) steps() []step {
	return []step{
		{"Starting the Tableau emulator (site from " + d.Fixture + ")", d.startTableau},
		{"Starting the Power BI emulator (tenant from " + d.PowerBI + ")", d.startPowerBI},
		{"Starting dbtexposures-server on a fresh database", d.startServer},
		{"Uploading the dbt project's manifest (" + d.Manifest + ")", d.uploadManifest},
		{"terraform init: the provider built here, from a local mirror (no registry, no dev_overrides)", d.initTerraform},
		{"terraform plan: what a reviewer sees in the pull request that creates the connections and selects workbooks and reports by name", func(ctx context.Context) error {
			return d.terraform(ctx, "plan", "-input=false", "-no-color", "-out=demo.tfplan")
		}},
		{"terraform show -json: the first plan names every selected item, with its path", d.planNamesSelections},
		{"terraform apply", func(ctx context.Context) error {
			return d.terraform(ctx, "apply", "-auto-approve", "-input=false", "-no-color", "demo.tfplan")
		}},
		{"terraform plan again: it must be empty", d.planIsEmpty},
		{"What Terraform discovered in Tableau and Power BI", func(ctx context.Context) error {
			return d.terraform(ctx, "output", "-no-color")
		}},
		{"The connections and their selections as the dbt Cloud API returns them", d.showConnections},
		{"The exposures dbtexposures-server generated (GET .../exposures/?format=yaml)", d.showExposures},
		{"dbt build finished: CI posts target/run_results.json (POST .../active-exposures/runs/), the server refreshes the extracts", func(ctx context.Context) error {
			return d.postRunResults(ctx, "refreshed", "")
		}},
		{"The same run posted again (CI retried): it is the run already recorded, answered as it was, nothing refreshed twice", func(ctx context.Context) error {
			return d.postRunResults(ctx, "refreshed", "")
		}},
		{"Another dbt build of the same models: every extract was refreshed less than 1440 minutes ago, so all are skipped", func(ctx context.Context) error {
			return d.postRunResults(ctx, "skipped", "00000000-0000-4000-8000-0000000d3m02")
		}},
		{"A pull request drops orders." + prDroppedColumn + " and rewrites stg_customers; CI posts its manifest (POST .../impact/?format=markdown) and comments", d.showImpact},
	}
}

// newDemo empties the work folder and resolves every path: Terraform runs in a
// subfolder, so each path it is given must be absolute.
func newDemo(o Options) (*demo, error) {
	var err error
	if o.WorkDir, err = filepath.Abs(o.WorkDir); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(o.WorkDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.WorkDir, 0o755); err != nil {
		return nil, err
	}
	for _, p := range []*string{&o.BinDir, &o.Fixture, &o.PowerBI, &o.Manifest, &o.RunResults} {
		if *p, err = filepath.Abs(*p); err != nil {
			return nil, err
		}
	}
	if o.Version == "" {
		return nil, errors.New("the provider's version is required (make demo passes the VERSION file's)")
	}
	return &demo{Options: o, server: filepath.Join(o.BinDir, "dbtexposures-server"), tfDir: filepath.Join(o.WorkDir, "terraform")}, nil
}

func (d *demo) stopAll() {
	for i := len(d.stops) - 1; i >= 0; i-- {
		d.stops[i]()
	}
}

func (d *demo) startTableau(ctx context.Context) (err error) {
	d.tableauURL, err = d.startEmulator(ctx, "tableau-emulator", 8485, "/api/2.4/serverinfo", d.Fixture)
	if err == nil {
		fmt.Fprintf(d.Out, "Tableau emulator at %s\n", d.tableauURL)
	}
	return err
}

func (d *demo) startPowerBI(ctx context.Context) (err error) {
	d.powerbiURL, err = d.startEmulator(ctx, "powerbi-emulator", 8486, "/"+demoPowerBITenant+"/v2.0/.well-known/openid-configuration", d.PowerBI)
	if err == nil {
		fmt.Fprintf(d.Out, "Power BI emulator at %s (Entra ID and the Scanner API)\n", d.powerbiURL)
	}
	return err
}

// startEmulator runs `dbtexposures-server <command> --fixture fixture` on the
// port (or a free one) until readyPath answers, and returns its base URL.
func (d *demo) startEmulator(ctx context.Context, command string, port int, readyPath, fixture string) (string, error) {
	port, err := portOr(port)
	if err != nil {
		return "", err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	stop, err := start(ctx, d.WorkDir, command, base+readyPath, "",
		d.server, command, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--fixture", fixture)
	if err != nil {
		return "", err
	}
	d.stops = append(d.stops, stop)
	return base, nil
}

func (d *demo) startServer(ctx context.Context) error {
	port, err := portOr(8484)
	if err != nil {
		return err
	}
	d.hostURL = fmt.Sprintf("http://127.0.0.1:%d/api", port)
	db := filepath.Join(d.WorkDir, "dbtexposures.db")
	stop, err := start(ctx, d.WorkDir, "server", d.hostURL+"/v2/accounts/", demoToken,
		d.server, "serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--db", db, "--bootstrap-token", demoToken,
		"--allowed-hosts", "127.0.0.1", // the emulator, and nothing else
		"--powerbi-api-url", d.powerbiURL, "--powerbi-login-url", d.powerbiURL)
	if err != nil {
		return err
	}
	d.stops = append(d.stops, stop)
	fmt.Fprintf(d.Out, "dbtexposures-server at %s (database %s)\n", d.hostURL, db)
	return nil
}

// initTerraform lays the built provider out as a local mirror, as make install
// does, records its checksum and runs terraform init from that mirror only.
func (d *demo) initTerraform(ctx context.Context) error {
	platform := runtime.GOOS + "_" + runtime.GOARCH
	mirror := filepath.Join(d.WorkDir, "plugins")
	dir := filepath.Join(mirror, "registry.terraform.io", "dbtexposures", "dbtexposures", d.Version, platform)
	if err := copyFile(filepath.Join(d.BinDir, "terraform-provider-dbtexposures"), filepath.Join(dir, "terraform-provider-dbtexposures_v"+d.Version), 0o755); err != nil {
		return fmt.Errorf("placing the provider in the local mirror: %w", err)
	}
	cliConfig := filepath.Join(d.WorkDir, "terraformrc") // empty: nothing from the user's own CLI configuration
	if err := os.WriteFile(cliConfig, nil, 0o644); err != nil {
		return err
	}
	if err := copyTF(d.ConfigDir, d.tfDir); err != nil {
		return err
	}
	d.env = append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+cliConfig,
		"TF_IN_AUTOMATION=1",
		"CHECKPOINT_DISABLE=1",
		"DBT_CLOUD_HOST_URL="+d.hostURL,
		"DBT_CLOUD_ACCOUNT_ID=1",
		"DBT_CLOUD_TOKEN="+demoToken,
		"TF_VAR_tableau_pat="+demoTableauPAT,
		"TF_VAR_tableau_host="+d.tableauURL,
		"TF_VAR_manifest_path="+d.Manifest,
		// The discovery data sources read Tableau directly, with the same PAT.
		"TABLEAU_HOST="+d.tableauURL,
		"TABLEAU_SITE_ID=jaffle",
		"TABLEAU_TOKEN_NAME=dbt-demo",
		"TABLEAU_TOKEN="+demoTableauPAT,
		// Power BI discovery: the app registration from the environment, the URLs from the configuration.
		"TF_VAR_powerbi_url="+d.powerbiURL,
		"POWERBI_TENANT_ID="+demoPowerBITenant,
		"POWERBI_CLIENT_ID="+demoPowerBIClient,
		"POWERBI_CLIENT_SECRET="+demoPowerBISecret,
		"TF_VAR_powerbi_client_secret="+demoPowerBISecret,
	)
	if err := d.terraform(ctx, "providers", "lock", "-no-color", "-fs-mirror="+mirror, "-platform="+platform); err != nil {
		return err
	}
	return d.terraform(ctx, "init", "-input=false", "-no-color", "-plugin-dir="+mirror)
}

// run runs terraform in the configuration's folder, printing what it prints,
// and returns its exit code; err is set only when it could not run at all.
func (d *demo) run(ctx context.Context, args ...string) (int, error) {
	cmd := exec.CommandContext(ctx, d.Terraform, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = d.tfDir, d.env, d.Out, d.Out
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("running %s: %w", d.Terraform, err)
	}
	return 0, nil
}

// terraform runs terraform and fails unless it exits 0.
func (d *demo) terraform(ctx context.Context, args ...string) error {
	code, err := d.run(ctx, args...)
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("terraform %s exited with code %d; its output is above", args[0], code)
	}
	return nil
}

func (d *demo) planIsEmpty(ctx context.Context) error {
	code, err := d.run(ctx, "plan", "-detailed-exitcode", "-input=false", "-no-color")
	switch {
	case err != nil:
		return err
	case code == 2:
		return errors.New("the second plan is not empty: the apply left changes behind (terraform plan -detailed-exitcode exited 2)")
	case code != 0:
		return fmt.Errorf("terraform plan exited with code %d; its output is above", code)
	}
	fmt.Fprintln(d.Out, "OK: no changes after apply.")
	return nil
}

func (d *demo) showConnections(ctx context.Context) error {
	client, err := dbtcloud.New(dbtcloud.Config{HostURL: d.hostURL, AccountID: 1, Token: demoToken})
	if err != nil {
		return err
	}
	list, err := client.ListLineageIntegrations(ctx, 1)
	if err != nil {
		return err
	}
	if len(list) != 2 {
		return fmt.Errorf("expected the Tableau and Power BI integrations, the API has %d", len(list))
	}
	for _, in := range list {
		pretty, _ := json.MarshalIndent(in, "", "  ")
		fmt.Fprintln(d.Out, string(pretty))
		tree, err := client.WalkCollections(ctx, 1, in.ID, dbtcloud.DefaultWalkConcurrency)
		if err != nil {
			return err
		}
		watched := 0
		for _, it := range tree {
			if it.Watching {
				watched++
				fmt.Fprintf(d.Out, "watching %-9s %s\n", it.Type, it.Name)
			}
		}
		if watched == 0 {
			return fmt.Errorf("the API reports nothing watched by the %s integration after apply", in.Name)
		}
	}
	return nil
}

// portOr is the default port when it is free, else any free port.
func portOr(def int) (int, error) {
	if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", def)); err == nil {
		l.Close()
		return def, nil
	}
	return freePort()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs one of our binaries in the background, logging to dir/name.log,
// and waits until readyURL answers 200 (with token, if any).
func start(ctx context.Context, dir, name, readyURL, token, bin string, args ...string) (func(), error) {
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w (run `make build` first)", bin, err)
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
		logFile.Close()
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, readyURL, nil)
		if token != "" {
			req.Header.Set("Authorization", "Token "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return stop, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			stop()
			log, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("%s did not become ready: %v\n%s", name, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// copyFile copies src to dst (creating dst's folder) with the given mode.
func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode)
}

// copyTF copies the .tf files (only) of src into dst, leaving state and caches behind.
func copyTF(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".tf") {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// api sends one request to dbtexposures-server with the demo's token.
func api(ctx context.Context, method, url string, body io.Reader) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Token "+demoToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: HTTP %d: %s", method, url, resp.StatusCode, b)
	}
	return b, nil
}

// uploadManifest PUTs the manifest: dbtexposures-server's extension for dbt Core projects.
func (d *demo) uploadManifest(ctx context.Context) error {
	f, err := os.Open(d.Manifest)
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := api(ctx, http.MethodPut, d.hostURL+"/v3/accounts/1/projects/1/manifest/", f)
	if err != nil {
		return err
	}
	var ans struct {
		Data struct {
			SchemaVersion int `json:"schema_version"`
			Nodes         int `json:"nodes"`
		} `json:"data"`
	}
	_ = json.Unmarshal(b, &ans)
	fmt.Fprintf(d.Out, "manifest v%d with %d models, seeds, snapshots and sources\n", ans.Data.SchemaVersion, ans.Data.Nodes)
	return nil
}

// showExposures syncs now, prints the YAML and the lineage as a table.
func (d *demo) showExposures(ctx context.Context) error {
	base := d.hostURL + "/v3/accounts/1/projects/1/exposures/"
	b, err := api(ctx, http.MethodPost, base+"sync/", nil)
	if err != nil {
		return err
	}
	var ans struct {
		Data struct {
			SyncError *string `json:"sync_error"`
			Exposures []struct {
				Label     string   `json:"label"`
				Tool      string   `json:"tool"`
				DependsOn []string `json:"depends_on"`
			} `json:"exposures"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &ans); err != nil {
		return err
	}
	if ans.Data.SyncError != nil {
		return fmt.Errorf("the exposure sync failed: %s", *ans.Data.SyncError)
	}
	yml, err := api(ctx, http.MethodGet, base+"?format=yaml", nil)
	if err != nil {
		return err
	}
	fmt.Fprint(d.Out, string(yml))
	if len(ans.Data.Exposures) == 0 {
		return fmt.Errorf("the sync produced no exposures")
	}
	fmt.Fprintf(d.Out, "\n==> Lineage: which dashboards depend on which dbt nodes\n\n")
	tw := tabwriter.NewWriter(d.Out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "DASHBOARD\tTOOL\tDEPENDS ON")
	tools := map[string]bool{}
	for _, e := range ans.Data.Exposures {
		tools[e.Tool] = true
		fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Label, e.Tool, strings.Join(e.DependsOn, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !tools[tableau.Tool.Name] || !tools[powerbi.Tool.Name] {
		return fmt.Errorf("the sync should produce exposures of both tools, it has %v", tools)
	}
	return nil
}
