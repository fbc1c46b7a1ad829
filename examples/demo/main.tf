# The demo configuration that `make demo` applies against a local
# dbtexposures-server. Provider settings come from DBT_CLOUD_* variables
# that the demo sets; the Tableau secret from TF_VAR_tableau_pat and the
# Power BI one from TF_VAR_powerbi_client_secret.
terraform {
  required_providers {
    dbtexposures = {
      source = "dbtexposures/dbtexposures"
    }
  }
}

provider "dbtexposures" {
  # The app registration comes from POWERBI_TENANT_ID, POWERBI_CLIENT_ID and
  # POWERBI_CLIENT_SECRET; the demo's Power BI is an emulator on loopback.
  powerbi = {
    api_url   = var.powerbi_url
    login_url = var.powerbi_url
  }
}

variable "powerbi_url" {
  type    = string
  default = "http://127.0.0.1:8486"
}

variable "manifest_path" {
  type        = string
  description = "The dbt project's target/manifest.json; the demo passes its own."
  default     = "manifest.json"
}

variable "project_id" {
  type    = number
  default = 1
}

variable "tableau_host" {
  type        = string
  description = "Where the Tableau site is; the demo runs an emulator on loopback."
  default     = "http://127.0.0.1:8485"
}

variable "tableau_pat" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "dbtexposures_tableau_connection" "demo" {
  project_id       = var.project_id
  host             = var.tableau_host
  site_id          = "jaffle"
  token_name       = "dbt-demo"
  token_wo         = var.tableau_pat
  token_wo_version = 1
}

output "connection_id" {
  value = dbtexposures_tableau_connection.demo.id
}

# Discovery: read straight from Tableau (the emulator in the demo) during plan.
data "dbtexposures_tableau_projects" "all" {}

data "dbtexposures_tableau_workbooks" "jaffle" {
  project_names       = ["Jaffle Shop"]
  include_subprojects = true
}

# The KPI dashboards of the Marketing folder, chosen by tag.
data "dbtexposures_tableau_workbooks" "marketing_kpis" {
  project_names = ["Jaffle Shop/Marketing"]
  tags          = ["kpi"]
}

# What dbt imports as exposures: the whole Finance folder (and what is below
# it) plus the Marketing KPI workbooks and the Supply Chain workbook.
resource "dbtexposures_auto_exposure_selection" "demo" {
  project_id    = var.project_id
  connection_id = dbtexposures_tableau_connection.demo.integration_id

  folder_ids = [for p in data.dbtexposures_tableau_projects.all.projects : p.id if p.path == "Jaffle Shop/Finance"]
  workbook_ids = concat(
    [for w in data.dbtexposures_tableau_workbooks.marketing_kpis.workbooks : w.id],
    [for w in data.dbtexposures_tableau_workbooks.jaffle.workbooks : w.id if w.name == "Supply Chain"],
  )
}

output "tableau_projects" {
  value = [for p in data.dbtexposures_tableau_projects.all.projects : p.path]
}

output "jaffle_workbooks" {
  value = {
    for w in data.dbtexposures_tableau_workbooks.jaffle.workbooks :
    w.name => [for t in w.upstream_tables : "${t.database}.${t.schema}.${t.name}"]
  }
}

output "selected" {
  value = [for s in dbtexposures_auto_exposure_selection.demo.selected : "${s.type}: ${s.path}"]
}

# Active exposures: after a dbt build in Production (environment 1), refresh
# the Tableau extracts downstream of what was built, at most once a day.
resource "dbtexposures_active_exposures" "production" {
  project_id          = var.project_id
  environment_id      = 1
  enabled             = true
  build_after_minutes = 1440
}

output "active_exposures" {
  value = "${dbtexposures_active_exposures.production.environment_name}: refresh extracts at most every ${dbtexposures_active_exposures.production.build_after_minutes} minutes"
}

# Power BI: the reports and the warehouse tables behind them, read from each
# dataset table's Power Query M (one report's dataset lives in another workspace).
data "dbtexposures_powerbi_reports" "jaffle" {}

data "dbtexposures_powerbi_workspaces" "all" {}

variable "powerbi_client_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}

# The project's Power BI connection: the same tenant, through dbtexposures-server.
resource "dbtexposures_powerbi_connection" "demo" {
  project_id               = var.project_id
  tenant_id                = "jaffle-tenant"
  client_id                = "dbt-demo-app"
  client_secret_wo         = var.powerbi_client_secret
  client_secret_wo_version = 1
}

# Import every report of the Jaffle Finance workspace as exposures.
resource "dbtexposures_auto_exposure_selection" "powerbi" {
  project_id    = var.project_id
  connection_id = dbtexposures_powerbi_connection.demo.integration_id
  folder_ids    = [for w in data.dbtexposures_powerbi_workspaces.all.workspaces : w.id if w.name == "Jaffle Finance"]
}

output "powerbi_selected" {
  value = [for s in dbtexposures_auto_exposure_selection.powerbi.selected : "${s.type}: ${s.path}"]
}

output "powerbi_lineage" {
  value = {
    for r in data.dbtexposures_powerbi_reports.jaffle.reports :
    "${r.workspace_name}/${r.name}" => [for t in r.upstream_tables : t.full_name]
  }
}

# Column lineage: the warehouse columns each dashboard uses (through calculated
# fields, published data sources, custom SQL and Power Query steps), matched to
# the columns the dbt project documents. A column its model lacks is a
# dashboard that is already broken.
data "dbtexposures_exposures" "columns" {
  manifest_path   = var.manifest_path
  include_columns = true
}

output "revenue_overview_columns" {
  value = {
    for c in one([for e in data.dbtexposures_exposures.columns.exposures : e.columns if e.name == "revenue_overview"]) :
    c.node => c.columns
  }
}

output "broken_dashboard_columns" {
  value = [for u in data.dbtexposures_exposures.columns.unmatched_columns : "${coalesce(u.workbook_id, u.powerbi_report_id)}: ${u.node}.${u.column}"]
}
