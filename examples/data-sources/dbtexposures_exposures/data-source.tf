# dbt exposures for the Finance workbooks, matched against the dbt project's
# manifest, written into the dbt project for dbt Core and dbt Cloud alike.
data "dbtexposures_exposures" "finance" {
  manifest_path       = "${path.module}/../dbt/target/manifest.json"
  project_names       = ["Finance"]
  include_subprojects = true
  maturity            = "high"
  owner_email         = "analytics@example.com" # for workbooks without a Tableau owner
}

resource "local_file" "exposures" {
  filename = "${path.module}/../dbt/models/exposures/tableau.yml"
  content  = data.dbtexposures_exposures.finance.yaml
}

# Tables the dashboards read that no dbt model or source produces.
output "lineage_gaps" {
  value = [for u in data.dbtexposures_exposures.finance.unmatched_tables : u.table]
}
