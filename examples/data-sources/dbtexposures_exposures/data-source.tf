# dbt exposures for the Finance workbooks (Tableau) and the Finance workspace's
# reports (Power BI, when the provider has powerbi settings), matched against
# the dbt project's manifest, written into the dbt project for dbt Core and dbt
# Cloud alike.
data "dbtexposures_exposures" "finance" {
  manifest_path       = "${path.module}/../dbt/target/manifest.json"
  project_names       = ["Finance"]
  include_subprojects = true

  powerbi_workspace_names = ["Finance"]
  powerbi_endorsement     = "Certified"

  maturity    = "high"
  owner_email = "analytics@example.com" # for dashboards without an owner in the BI tool
}

resource "local_file" "exposures" {
  filename = "${path.module}/../dbt/models/exposures/bi_exposures.yml"
  content  = data.dbtexposures_exposures.finance.yaml
}

# Tables the dashboards read that no dbt model or source produces.
output "lineage_gaps" {
  value = [for u in data.dbtexposures_exposures.finance.unmatched_tables : u.table]
}
