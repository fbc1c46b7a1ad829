// Package benche2e measures what a user waits for: a real `terraform plan`
// reading the discovery data sources of a 10,000-workbook Tableau site (the
// emulator, with network latency), with the provider built by `make build`.
// It reports the plan's wall time and the provider process's peak RSS, read
// from the kernel while the provider, started in debug mode, still runs.
package benche2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/impact/benchproject"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
)

// Options say what to measure.
type Options struct {
	Provider  string        // the provider binary
	Terraform string        // the terraform binary
	Manifest  string        // a dbt manifest, for the exposures data source
	Workbooks int           // size of the generated site
	Latency   time.Duration // delay of every Tableau answer
	Runs      int           // plans per data source; the median is reported
	Impact    bool          // also plan dbtexposures_impact over a generated 5,000-model project
	Only      string        // plan only this data source (a name Run reports), when set
	Out       io.Writer
}

// Result is one data source's measurement.
type Result struct {
	DataSource string
	Wall       []time.Duration // each plan's wall time
	PeakRSS    []int64         // each provider process's peak RSS, bytes
	// AfterLastAnswer is, for each plan, the time from Tableau's last answer
	// to the plan's end: the provider's work and Terraform's, not the network's.
	AfterLastAnswer []time.Duration
}

// Run measures both discovery data sources.
func Run(ctx context.Context, o Options) ([]Result, error) {
	// Every workbook has a sheet using 20 to 40 columns; only plans with
	// include_columns read them.
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: o.Workbooks, TablesPerWorkbook: 4, VaryTables: true, Columns: true})
	emu, err := emulator.New(f)
	if err != nil {
		return nil, err
	}
	emu.Latency = o.Latency
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	tableau := fmt.Sprintf(`
  tableau = {
    host       = "http://%s"
    site_id    = %q
    token_name = %q
    token      = %q
  }`, ln.Addr(), f.Site.ContentURL, f.PersonalAccessToken.Name, f.PersonalAccessToken.Secret)
	sources, cleanup, err := planSources(o)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if o.Only != "" {
		sources = slices.DeleteFunc(sources, func(s source) bool { return s.name != o.Only })
	}
	// Runs alternate between the data sources, so that a slower spell of the
	// machine weighs on each alike rather than on whichever ran then.
	results := make([]Result, len(sources))
	for i := 0; i < o.Runs; i++ {
		for j, s := range sources {
			config := "terraform {\n  required_providers {\n    dbtexposures = { source = \"dbtexposures/dbtexposures\" }\n  }\n}\n" +
				"provider \"dbtexposures\" {" + tableau + "\n}\n" + s.config + "\n"
			wall, tail, rss, err := planOnce(ctx, o, config, emu.LastAnswer)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
			r := &results[j]
			r.DataSource = s.name
			r.Wall, r.PeakRSS, r.AfterLastAnswer = append(r.Wall, wall), append(r.PeakRSS, rss), append(r.AfterLastAnswer, tail)
			fmt.Fprintf(o.Out, "%-38s run %d: terraform plan %6.2f s (%5.2f s after Tableau's last answer), provider peak RSS %4d MB\n",
				s.name, i+1, wall.Seconds(), tail.Seconds(), rss>>20)
		}
	}
	return results, nil
}

// source is a data source to plan, and the configuration that reads it.
type source struct{ name, config string }

// planSources are the data sources Run plans, and what removes the files
// they read when it ends.
func planSources(o Options) (sources []source, cleanup func(), err error) {
	cleanup = func() {}
	manifest, err := filepath.Abs(o.Manifest)
	if err != nil {
		return nil, nil, err
	}
	sources = []source{
		{"dbtexposures_tableau_workbooks", `data "dbtexposures_tableau_workbooks" "all" {}
output "workbooks" { value = length(data.dbtexposures_tableau_workbooks.all.workbooks) }`},
		{"dbtexposures_tableau_workbooks+columns", `data "dbtexposures_tableau_workbooks" "all" { include_columns = true }
output "columns" { value = length(flatten([for w in data.dbtexposures_tableau_workbooks.all.workbooks : w.upstream_columns])) }`},
		{"dbtexposures_exposures", fmt.Sprintf(`data "dbtexposures_exposures" "all" { manifest_path = %q }
output "exposures" { value = length(data.dbtexposures_exposures.all.exposures) }`, manifest)},
	}
	if o.Impact {
		files, err := impactFiles()
		if err != nil {
			return nil, nil, err
		}
		cleanup = func() { os.RemoveAll(files["dir"]) }
		sources = append(sources, source{"dbtexposures_impact", fmt.Sprintf(`data "dbtexposures_impact" "pr" {
  manifest_path      = %q
  base_manifest_path = %q
  catalog_path       = %q
  base_catalog_path  = %q
}
output "breaking" { value = data.dbtexposures_impact.pr.summary.breaking }`, files["manifest_path"], files["base_manifest_path"],
			files["catalog_path"], files["base_catalog_path"])})
	}
	return sources, cleanup, nil
}

// impactFiles writes a generated 5,000-model project's two manifests (about
// 50 MB each) and catalogs to a temporary folder ("dir"), by argument.
func impactFiles() (map[string]string, error) {
	dir, err := os.MkdirTemp("", "dbtexposures-bench-impact-")
	if err != nil {
		return nil, err
	}
	p := benchproject.Project{Models: 5000, Bytes: 50 << 20}
	files := map[string]string{"dir": dir}
	for arg, doc := range map[string]func() []byte{"manifest_path": func() []byte { return p.Manifest(true) },
		"base_manifest_path": func() []byte { return p.Manifest(false) }, "catalog_path": func() []byte { return p.Catalog(true) },
		"base_catalog_path": func() []byte { return p.Catalog(false) }} {
		files[arg] = filepath.Join(dir, arg+".json")
		if err := os.WriteFile(files[arg], doc(), 0o600); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// Find is the result of the named data source, or nil.
func Find(results []Result, name string) *Result {
	for i := range results {
		if results[i].DataSource == name {
			return &results[i]
		}
	}
	return nil
}

// planOnce starts a provider process, runs one terraform plan against it and
// reads the process's peak RSS before stopping it. tail is the time from
// Tableau's last answer to the plan's end: the provider's and Terraform's
// work, not the network's.
func planOnce(ctx context.Context, o Options, config string, lastAnswer func() time.Time) (wall, tail time.Duration, rss int64, err error) {
	dir, err := os.MkdirTemp("", "dbtexposures-bench-e2e-")
	if err != nil {
		return 0, 0, 0, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o644); err != nil {
		return 0, 0, 0, err
	}
	provider, reattach, err := startProvider(ctx, o.Provider)
	if err != nil {
		return 0, 0, 0, err
	}
	defer stop(provider)
	cliConfig := filepath.Join(dir, "terraformrc")
	if err := os.WriteFile(cliConfig, nil, 0o644); err != nil {
		return 0, 0, 0, err
	}
	env := append(os.Environ(), "TF_REATTACH_PROVIDERS="+reattach, "TF_CLI_CONFIG_FILE="+cliConfig,
		"CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_LOG=")
	// init is instant for a reattached provider; it is not part of the plan's wait.
	initCmd := exec.CommandContext(ctx, o.Terraform, "init", "-input=false", "-no-color")
	initCmd.Dir, initCmd.Env = dir, env
	if out, err := initCmd.CombinedOutput(); err != nil {
		return 0, 0, 0, fmt.Errorf("terraform init: %v\n%s", err, out)
	}
	start := time.Now()
	cmd := exec.CommandContext(ctx, o.Terraform, "plan", "-input=false", "-no-color", "-lock=false")
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	wall, tail = time.Since(start), time.Since(lastAnswer())
	if err != nil {
		return 0, 0, 0, fmt.Errorf("terraform plan: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Changes to Outputs") {
		return 0, 0, 0, fmt.Errorf("terraform plan did not read the data source:\n%s", out)
	}
	rss, err = peakRSS(provider.Process.Pid)
	return wall, tail, rss, err
}

var reattachLine = regexp.MustCompile(`TF_REATTACH_PROVIDERS='(.*)'`)

// startProvider runs the provider in debug mode and returns the reattach
// configuration it prints, which Terraform connects with.
func startProvider(ctx context.Context, bin string) (*exec.Cmd, string, error) {
	cmd := exec.CommandContext(ctx, bin, "-debug")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("starting %s (run make build first): %w", bin, err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if m := reattachLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- strings.ReplaceAll(m[1], `'"'"'`, `'`)
			}
		}
		close(found)
	}()
	select {
	case r, ok := <-found:
		if ok {
			return cmd, r, nil
		}
	case <-time.After(30 * time.Second):
	case <-ctx.Done():
	}
	stop(cmd)
	return nil, "", errors.New("the provider printed no reattach configuration in debug mode")
}

func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGINT)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// peakRSS is a live process's peak resident set size (VmHWM).
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the provider's peak RSS (Linux only): %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// Median is the middle value of ds.
func Median[T time.Duration | int64](ds []T) T {
	s := append([]T(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
