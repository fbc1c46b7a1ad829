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
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
)

// Options say where things are.
type Options struct {
	BinDir    string // holds terraform-provider-dbtexposures and dbtexposures-server
	ConfigDir string // the Terraform configuration to apply (examples/demo)
	Fixture   string // the Tableau site the emulator serves (examples/demo/tableau-site.json)
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
	tport, err := freePort()
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

	port, err := freePort()
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
	say("Done. Everything started by the demo is stopped; files are in %s", o.WorkDir)
	return nil
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
