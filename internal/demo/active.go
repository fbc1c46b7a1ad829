package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"
)

// activeRun is the part of a run's answer the demo prints.
type activeRun struct {
	Status    string `json:"status"`
	Refreshes []struct {
		Exposure   string `json:"exposure"`
		TargetType string `json:"target_type"`
		TargetName string `json:"target_name"`
		Action     string `json:"action"`
		Reason     string `json:"reason"`
	} `json:"refreshes"`
}

// invocationIDRE finds the run's invocation ID in run_results.json.
var invocationIDRE = regexp.MustCompile(`"invocation_id":\s*"[^"]*"`)

// postRunResults posts the run results, as CI does after `dbt build`, prints
// the refresh log and checks that every target ended as want. invocation
// replaces the run's metadata.invocation_id unless empty: another dbt run of
// the same nodes.
func (d *demo) postRunResults(ctx context.Context, want, invocation string) error {
	rr, err := os.ReadFile(d.RunResults)
	if err != nil {
		return err
	}
	if invocation != "" {
		rr = invocationIDRE.ReplaceAll(rr, []byte(`"invocation_id": "`+invocation+`"`))
	}
	var body bytes.Buffer
	body.WriteString(`{"environment_id": 1, "run_results": `)
	body.Write(rr)
	body.WriteString(`}`)
	b, err := api(ctx, http.MethodPost, d.hostURL+"/v3/accounts/1/projects/1/active-exposures/runs/", &body)
	if err != nil {
		return err
	}
	var ans struct{ Data activeRun }
	if err := json.Unmarshal(b, &ans); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(d.Out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "EXPOSURE\tREFRESH\tACTION\tREASON")
	for _, r := range ans.Data.Refreshes {
		fmt.Fprintf(tw, "%s\t%s %q\t%s\t%s\n", r.Exposure, r.TargetType, r.TargetName, r.Action, r.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(ans.Data.Refreshes) == 0 {
		return fmt.Errorf("the run refreshed nothing: no exposure depends on what it built")
	}
	for _, r := range ans.Data.Refreshes {
		if r.Action != want && !strings.Contains(r.Reason, "once per run") {
			return fmt.Errorf("%s %q: %s (%s), want %s", r.TargetType, r.TargetName, r.Action, r.Reason, want)
		}
	}
	return nil
}
