# Certified Finance reports, with the warehouse tables their datasets read.
data "dbtexposures_powerbi_reports" "finance" {
  workspace_names = ["Finance"]
  endorsement     = "Certified"
  name_regex      = "^(Revenue|Margin)"
}

output "finance_report_lineage" {
  value = {
    for r in data.dbtexposures_powerbi_reports.finance.reports :
    r.name => [for t in r.upstream_tables : t.full_name]
  }
}
