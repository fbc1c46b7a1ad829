// Package demo runs the whole stack on one machine: dbtexposures-server on a
// temporary database, then the real terraform CLI applying examples/demo with
// the locally built provider, then a second plan that must be empty.
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
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
)

// Options say where things are.
type Options struct {
	BinDir    string // holds terraform-provider-dbtexposures and dbtexposures-server
	ConfigDir string // the Terraform configuration to apply (examples/demo)
	Fixture   string // the Tableau site the emulator serves (examples/demo/tableau-site.json)
	Manifest  string // the dbt manifest (examples/demo/manifest.json)
	WorkDir   string // scratch space; emptied first
	Terraform string // terraform binary
	Out       io.Writer
}

const demoToken = "demo-bootstrap-token"

// Run runs the demo and returns an error if any step fails. It stops what it started.
func Run(ctx context.Context, o Options) (err error) {
	// Terraform runs in a subdirectory, so every path it is given must be absolute.
	if o.WorkDir, err = filepath.Abs(o.WorkDir); err != nil {
		return err
	}
	if err := os.RemoveAll(o.WorkDir); err != nil {
		return err
	}
	if err := os.MkdirAll(o.WorkDir, 0o755); err != nil {
		return err
	}
	binDir, err := filepath.Abs(o.BinDir)
	if err != nil {
		return err
	}
	say := func(format string, a ...any) { fmt.Fprintf(o.Out, "\n==> "+format+"\n", a...) }

	server := filepath.Join(binDir, "dbtexposures-server")
	fixture, err := filepath.Abs(o.Fixture)
	if err != nil {
		return err
	}
	tport, err := portOr(8485)
	if err != nil {
		return err
	}
	tableauURL := fmt.Sprintf("http://127.0.0.1:%d", tport)
	say("Starting the Tableau emulator on %s (site from %s)", tableauURL, o.Fixture)
	stopTableau, err := start(ctx, o.WorkDir, "tableau-emulator", tableauURL+"/api/2.4/serverinfo", "",
		server, "tableau-emulator", "--listen", fmt.Sprintf("127.0.0.1:%d", tport), "--fixture", fixture)
	if err != nil {
		return err
	}
	defer stopTableau()

	port, err := portOr(8484)
	if err != nil {
		return err
	}
	hostURL := fmt.Sprintf("http://127.0.0.1:%d/api", port)
	say("Starting dbtexposures-server on %s (database %s)", hostURL, filepath.Join(o.WorkDir, "dbtexposures.db"))
	stop, err := start(ctx, o.WorkDir, "server", hostURL+"/v2/accounts/", demoToken,
		server, "serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--db", filepath.Join(o.WorkDir, "dbtexposures.db"), "--bootstrap-token", demoToken)
	if err != nil {
		return err
	}
	defer stop()

	say("Uploading the dbt project's manifest (%s)", o.Manifest)
	if err := uploadManifest(ctx, hostURL, o.Manifest, o.Out); err != nil {
		return err
	}

	cliConfig := filepath.Join(o.WorkDir, "terraformrc")
	if err := os.WriteFile(cliConfig, []byte(fmt.Sprintf(`provider_installation {
  dev_overrides {
    "dbtexposures/dbtexposures" = %q
  }
  direct {}
}
`, binDir)), 0o644); err != nil {
		return err
	}
	tfDir := filepath.Join(o.WorkDir, "terraform")
	if err := copyTF(o.ConfigDir, tfDir); err != nil {
		return err
	}
	env := append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+cliConfig,
		"TF_IN_AUTOMATION=1",
		"CHECKPOINT_DISABLE=1",
		"DBT_CLOUD_HOST_URL="+hostURL,
		"DBT_CLOUD_ACCOUNT_ID=1",
		"DBT_CLOUD_TOKEN="+demoToken,
		"TF_VAR_tableau_pat=demo-tableau-pat-secret",
		"TF_VAR_tableau_host="+tableauURL,
		// The discovery data sources read Tableau directly, with the same PAT.
		"TABLEAU_HOST="+tableauURL,
		"TABLEAU_SITE_ID=jaffle",
		"TABLEAU_TOKEN_NAME=dbt-demo",
		"TABLEAU_TOKEN=demo-tableau-pat-secret",
	)
	tf := func(args ...string) (int, error) {
		cmd := exec.CommandContext(ctx, o.Terraform, args...)
		cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = tfDir, env, o.Out, o.Out
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), nil
		}
		return 0, err
	}

	say("terraform apply -target: first the dbt Cloud project's Tableau connection")
	if code, err := tf("apply", "-auto-approve", "-input=false", "-no-color", "-target=dbtexposures_tableau_connection.demo"); err != nil || code != 0 {
		return fmt.Errorf("terraform apply of the connection failed (exit %d): %v", code, err)
	}

	say("terraform plan: what a reviewer sees in the pull request that selects workbooks")
	if code, err := tf("plan", "-input=false", "-no-color", "-out=demo.tfplan"); err != nil || code != 0 {
		return fmt.Errorf("terraform plan failed (exit %d): %v", code, err)
	}

	say("terraform apply (the locally built provider, through dev_overrides)")
	if code, err := tf("apply", "-auto-approve", "-input=false", "-no-color", "demo.tfplan"); err != nil || code != 0 {
		return fmt.Errorf("terraform apply failed (exit %d): %v", code, err)
	}
	say("terraform plan again: it must be empty")
	code, err := tf("plan", "-detailed-exitcode", "-input=false", "-no-color")
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("the second plan is not empty (terraform plan -detailed-exitcode exited %d)", code)
	}
	fmt.Fprintln(o.Out, "OK: no changes after apply.")

	say("What Terraform discovered in Tableau")
	if code, err := tf("output", "-no-color"); err != nil || code != 0 {
		return fmt.Errorf("terraform output failed (exit %d): %v", code, err)
	}

	say("The connection and its selection as the dbt Cloud API returns them")
	client, err := dbtcloud.New(dbtcloud.Config{HostURL: hostURL, AccountID: 1, Token: demoToken})
	if err != nil {
		return err
	}
	list, err := client.ListLineageIntegrations(ctx, 1)
	if err != nil {
		return err
	}
	if len(list) != 1 {
		return fmt.Errorf("expected one lineage integration, the API has %d", len(list))
	}
	pretty, _ := json.MarshalIndent(list[0], "", "  ")
	fmt.Fprintln(o.Out, string(pretty))
	tree, err := client.WalkCollections(ctx, 1, list[0].ID, dbtcloud.DefaultWalkConcurrency)
	if err != nil {
		return err
	}
	watched := 0
	for _, it := range tree {
		if it.Watching {
			watched++
			fmt.Fprintf(o.Out, "watching %-9s %s\n", it.Type, it.Name)
		}
	}
	if watched == 0 {
		return fmt.Errorf("the API reports nothing watched after apply")
	}

	say("The exposures dbtexposures-server generated (GET .../exposures/?format=yaml)")
	return showExposures(ctx, hostURL, o.Out)
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
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
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
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: HTTP %d: %s", method, url, resp.StatusCode, b)
	}
	return b, nil
}

// uploadManifest PUTs the manifest: dbtexposures-server's extension for dbt Core projects.
func uploadManifest(ctx context.Context, hostURL, path string, out io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := api(ctx, http.MethodPut, hostURL+"/v3/accounts/1/projects/1/manifest/", f)
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
	fmt.Fprintf(out, "manifest v%d with %d models, seeds, snapshots and sources\n", ans.Data.SchemaVersion, ans.Data.Nodes)
	return nil
}

// showExposures syncs now, prints the YAML and the lineage as a table.
func showExposures(ctx context.Context, hostURL string, out io.Writer) error {
	base := hostURL + "/v3/accounts/1/projects/1/exposures/"
	b, err := api(ctx, http.MethodPost, base+"sync/", nil)
	if err != nil {
		return err
	}
	var ans struct {
		Data struct {
			SyncError *string `json:"sync_error"`
			Exposures []struct {
				Label     string   `json:"label"`
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
	fmt.Fprint(out, string(yml))
	if len(ans.Data.Exposures) == 0 {
		return fmt.Errorf("the sync produced no exposures")
	}
	fmt.Fprintf(out, "\n==> Lineage: which dashboards depend on which dbt nodes\n\n")
	tw := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "DASHBOARD\tDEPENDS ON")
	for _, e := range ans.Data.Exposures {
		fmt.Fprintf(tw, "%s\t%s\n", e.Label, strings.Join(e.DependsOn, ", "))
	}
	return tw.Flush()
}
