# Finance workbooks, including those in Finance's subprojects, tagged "kpi".
data "dbtexposures_tableau_workbooks" "finance_kpis" {
  project_names       = ["Finance"]
  include_subprojects = true
  tags                = ["kpi"]
}

# Which warehouse tables each of them reads.
output "finance_kpi_lineage" {
  value = {
    for w in data.dbtexposures_tableau_workbooks.finance_kpis.workbooks :
    w.name => [for t in w.upstream_tables : "${t.database}.${t.schema}.${t.name}"]
  }
}
