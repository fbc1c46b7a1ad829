# The demo configuration that `make demo` applies against a local
# dbtexposures-server. Provider settings come from DBT_CLOUD_* variables
# that the demo sets; the Tableau secret from TF_VAR_tableau_pat.
terraform {
  required_providers {
    dbtexposures = {
      source = "dbtexposures/dbtexposures"
    }
  }
}

provider "dbtexposures" {}

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
