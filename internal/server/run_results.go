package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
)

// minRunResultsVersion is the oldest run_results.json schema accepted: v4
// (dbt 1.0) is the first whose results carry unique_id and status as today.
const minRunResultsVersion = 4

var runResultsVersionRE = regexp.MustCompile(`/run-results/v(\d+)\.json$`)

// runResults is the part of dbt's target/run_results.json a run needs.
type runResults struct {
	version int
	results []nodeResult
	// invocationID identifies the dbt run: the same run posted twice, to
	// any replica, is one run. "" when dbt did not write one.
	invocationID string
}

type nodeResult struct {
	UniqueID string `json:"unique_id"`
	Status   string `json:"status"`
}

// parseRunResults checks dbt's run_results.json, naming the field at fault.
func parseRunResults(raw json.RawMessage) (*runResults, error) {
	var doc struct {
		Metadata *struct {
			SchemaVersion string `json:"dbt_schema_version"`
			InvocationID  string `json:"invocation_id"`
		} `json:"metadata"`
		Results *[]json.RawMessage `json:"results"`
	}
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return nil, badField("run_results", "must be a JSON object: the contents of dbt's target/run_results.json")
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, badField("run_results", "must be dbt's target/run_results.json (a JSON object): %s", describeJSONError(err))
	}
	if doc.Metadata == nil {
		return nil, badField("run_results.metadata.dbt_schema_version", "is required; send target/run_results.json as dbt wrote it")
	}
	m := runResultsVersionRE.FindStringSubmatch(doc.Metadata.SchemaVersion)
	if m == nil {
		return nil, badField("run_results.metadata.dbt_schema_version", "%q is not a run-results schema URL such as https://schemas.getdbt.com/dbt/run-results/v6.json", doc.Metadata.SchemaVersion)
	}
	v, _ := strconv.Atoi(m[1])
	if v < minRunResultsVersion {
		return nil, badField("run_results.metadata.dbt_schema_version", "run-results v%d is older than v%d; run dbt 1.0 or later", v, minRunResultsVersion)
	}
	if doc.Results == nil {
		return nil, badField("run_results.results", "is required: the list of node results")
	}
	out := &runResults{version: v, invocationID: doc.Metadata.InvocationID}
	for i, item := range *doc.Results {
		var n nodeResult
		if err := json.Unmarshal(item, &n); err != nil {
			return nil, badField(fmt.Sprintf("run_results.results[%d]", i), "must be an object with unique_id and status: %s", describeJSONError(err))
		}
		if n.UniqueID == "" {
			return nil, badField(fmt.Sprintf("run_results.results[%d].unique_id", i), "is required (for example \"model.jaffle_shop.orders\")")
		}
		if n.Status == "" {
			return nil, badField(fmt.Sprintf("run_results.results[%d].status", i), "is required (for example \"success\")")
		}
		out.results = append(out.results, n)
	}
	return out, nil
}
