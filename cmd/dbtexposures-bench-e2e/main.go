// Command dbtexposures-bench-e2e is what `make bench-e2e` runs: a real
// terraform plan over a 10,000-workbook Tableau site, timed, with the
// provider's peak RSS.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/benche2e"
)

func main() {
	provider := flag.String("provider", "bin/terraform-provider-dbtexposures", "the provider binary")
	manifest := flag.String("manifest", "examples/demo/manifest.json", "dbt manifest for the exposures data source")
	workbooks := flag.Int("workbooks", 10000, "workbooks in the generated Tableau site")
	latency := flag.Duration("latency", 20*time.Millisecond, "delay of every Tableau answer")
	runs := flag.Int("runs", 3, "plans per data source; the median is reported")
	only := flag.String("only", "", "plan only this data source (as the results name it)")
	withImpact := flag.Bool("impact", true, "also plan dbtexposures_impact over a generated 5,000-model project")
	flag.Parse()
	tf, err := exec.LookPath("terraform")
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbtexposures-bench-e2e: terraform is not on PATH")
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fmt.Printf("terraform plan over %d workbooks with 1-4 tables each, %v of latency per Tableau answer\n", *workbooks, *latency)
	results, err := benche2e.Run(ctx, benche2e.Options{Provider: *provider, Terraform: tf, Manifest: *manifest,
		Workbooks: *workbooks, Latency: *latency, Runs: *runs, Impact: *withImpact, Only: *only, Out: os.Stdout})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbtexposures-bench-e2e:", err)
		os.Exit(1)
	}
	for _, r := range results {
		fmt.Printf("median %-38s terraform plan %6.2f s (%5.2f s after Tableau's last answer), provider peak RSS %4d MB\n", r.DataSource,
			benche2e.Median(r.Wall).Seconds(), benche2e.Median(r.AfterLastAnswer).Seconds(), benche2e.Median(r.PeakRSS)>>20)
	}
	if with, without := benche2e.Find(results, "dbtexposures_tableau_workbooks+columns"), benche2e.Find(results, "dbtexposures_tableau_workbooks"); with != nil && without != nil {
		fmt.Printf("include_columns: the plan takes %.2f× the plan without (medians; target ≤ 1.6×)\n",
			benche2e.Median(with.Wall).Seconds()/benche2e.Median(without.Wall).Seconds())
	}
}
