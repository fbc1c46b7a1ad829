# Import every workbook of the Finance folder, plus the Marketing workbooks
# tagged "kpi", into dbt as exposures. The plan lists them by name.
data "dbtexposures_tableau_projects" "all" {}

data "dbtexposures_tableau_workbooks" "marketing_kpis" {
  project_names = ["Marketing"]
  tags          = ["kpi"]
}

resource "dbtexposures_auto_exposure_selection" "analytics" {
  project_id    = dbtexposures_tableau_connection.analytics.project_id
  connection_id = dbtexposures_tableau_connection.analytics.integration_id

  folder_ids   = [for p in data.dbtexposures_tableau_projects.all.projects : p.id if p.path == "Finance"]
  workbook_ids = [for w in data.dbtexposures_tableau_workbooks.marketing_kpis.workbooks : w.id]
}

# On a Power BI connection, folders are workspaces and dashboards are reports.
data "dbtexposures_powerbi_workspaces" "all" {}

data "dbtexposures_powerbi_reports" "certified" {
  endorsement = "Certified"
}

resource "dbtexposures_auto_exposure_selection" "powerbi" {
  project_id    = dbtexposures_powerbi_connection.analytics.project_id
  connection_id = dbtexposures_powerbi_connection.analytics.integration_id

  folder_ids = [for w in data.dbtexposures_powerbi_workspaces.all.workspaces : w.id if w.name == "Finance"]
  report_ids = [for r in data.dbtexposures_powerbi_reports.certified.reports : r.id]
}
