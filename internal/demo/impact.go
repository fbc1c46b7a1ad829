package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// The pull request the demo reviews: orders no longer has order_total,
// stg_customers is rewritten, and, as in CI, every model is built into a
// schema of its own (which changes nothing).
const (
	prDroppedColumn = "order_total"
	prCISchema      = "dbt_cloud_pr_42"
)

// showImpact posts the pull request's manifest to POST …/impact/ as dbt
// Core CI would, with no BI credentials, and prints the comment it answers.
func (d *demo) showImpact(ctx context.Context) error {
	pr, err := pullRequestManifest(d.Manifest)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(d.WorkDir, "pr-manifest.json"), pr, 0o644); err != nil {
		return err
	}
	md, err := api(ctx, http.MethodPost, d.hostURL+"/v3/accounts/1/projects/1/impact/?format=markdown", bytes.NewReader(pr))
	if err != nil {
		return err
	}
	fmt.Fprintf(d.Out, "(the pull request's manifest is in %s)\n\n%s", filepath.Join(d.WorkDir, "pr-manifest.json"), md)
	if !strings.Contains(string(md), "#### Breaking") || !strings.Contains(string(md), prDroppedColumn) {
		return fmt.Errorf("the comment should name the dashboards that use orders.%s as breaking", prDroppedColumn)
	}
	return nil
}

// pullRequestManifest is the demo project's manifest as the pull request
// changes it.
func pullRequestManifest(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	nodes, _ := m["nodes"].(map[string]any)
	orders, _ := nodes["model.jaffle_shop.orders"].(map[string]any)
	stg, _ := nodes["model.jaffle_shop.stg_customers"].(map[string]any)
	if orders == nil || stg == nil {
		return nil, fmt.Errorf("%s is not the demo's jaffle_shop manifest: it lacks orders or stg_customers", path)
	}
	for _, n := range nodes {
		if node, _ := n.(map[string]any); node["resource_type"] == "model" {
			node["schema"] = prCISchema
			node["relation_name"] = strings.Replace(fmt.Sprint(node["relation_name"]), `"jaffle_shop"`, `"`+prCISchema+`"`, 1)
		}
	}
	if cols, ok := orders["columns"].(map[string]any); ok {
		delete(cols, prDroppedColumn)
	}
	stg["raw_code"] = fmt.Sprint(stg["raw_code"]) + "\n-- names trimmed"
	return json.Marshal(m)
}
