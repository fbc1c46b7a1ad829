package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strings"
)

// PlannedSelections reads a saved plan as `terraform show -json` prints it:
// for each auto-exposure selection it creates or changes, its `selected`
// items as "type: path". A selection whose items are known only after apply
// is an error naming it: the plan would not show a reviewer what it selects.
func PlannedSelections(planJSON []byte) (map[string][]string, error) {
	var plan struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Type    string `json:"type"`
			Change  struct {
				After        map[string]json.RawMessage `json:"after"`
				AfterUnknown map[string]json.RawMessage `json:"after_unknown"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal(planJSON, &plan); err != nil {
		return nil, fmt.Errorf("reading the plan's JSON: %w", err)
	}
	out := map[string][]string{}
	for _, rc := range plan.ResourceChanges {
		if rc.Type != "dbtexposures_auto_exposure_selection" || rc.Change.After == nil {
			continue
		}
		if string(rc.Change.AfterUnknown["selected"]) == "true" {
			return nil, fmt.Errorf("%s: the plan shows `selected` as known after apply", rc.Address)
		}
		var items []struct{ Type, Path string }
		if err := json.Unmarshal(rc.Change.After["selected"], &items); err != nil {
			return nil, fmt.Errorf("%s: reading `selected`: %w", rc.Address, err)
		}
		names := []string{}
		for _, it := range items {
			names = append(names, it.Type+": "+it.Path)
		}
		sort.Strings(names)
		out[rc.Address] = names
	}
	return out, nil
}

// planNamesSelections checks that the saved plan names every selected item,
// and prints them as a reviewer reads them.
func (d *demo) planNamesSelections(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, d.Terraform, "show", "-json", "demo.tfplan")
	var stdout bytes.Buffer
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = d.tfDir, d.env, &stdout, d.Out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("terraform show -json: %w", err)
	}
	sels, err := PlannedSelections(stdout.Bytes())
	if err != nil {
		return err
	}
	if len(sels) == 0 {
		return errors.New("the plan selects nothing")
	}
	addrs := make([]string, 0, len(sels))
	for a := range sels {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		fmt.Fprintf(d.Out, "%s selects: %s\n", a, strings.Join(sels[a], "; "))
	}
	return nil
}
