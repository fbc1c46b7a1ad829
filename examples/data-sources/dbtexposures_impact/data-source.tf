# In pull-request CI: which dashboards the change breaks. The base is
# production's manifest (for example from the last deployment's artifacts);
# the catalogs, when given, make column types the warehouse's own.
data "dbtexposures_impact" "pr" {
  manifest_path      = "${path.module}/../dbt/target/manifest.json"
  base_manifest_path = "${path.module}/../prod-artifacts/manifest.json"
  project_names      = ["Finance"]
}

# The pull-request comment, for a CI step to post (see the README's recipe).
output "impact_comment" {
  value = data.dbtexposures_impact.pr.markdown
}

# Warn in the plan, without failing it, when a dashboard breaks.
check "no_breaking_dashboards" {
  assert {
    condition     = data.dbtexposures_impact.pr.summary.breaking == 0
    error_message = "This change breaks ${data.dbtexposures_impact.pr.summary.breaking} dashboard(s): ${join(", ", [for i in data.dbtexposures_impact.pr.impacts : i.dashboard if i.severity == "breaking"])}"
  }
}
