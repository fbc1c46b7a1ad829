variable "tableau_lineage_pat_secret" {
  type      = string
  sensitive = true
  ephemeral = true # Terraform 1.10+: the value is never written to plan or state
}

# The Tableau site that dbt Cloud reads workbooks from, for auto-exposures.
resource "dbtexposures_tableau_connection" "analytics" {
  project_id = 123
  host       = "10az.online.tableau.com"
  site_id    = "acme"
  token_name = "dbt-lineage" # a token for dbt Cloud alone: one session per token

  # Write-only: sent to dbt Cloud, never stored in state.
  # Change token_wo_version to send a rotated token.
  token_wo         = var.tableau_lineage_pat_secret
  token_wo_version = 1

  # Optional: fail `terraform plan` (a CI drift check) while dbt Cloud cannot
  # read Tableau through the connection. A plan that changes the connection,
  # such as one that bumps token_wo_version, is not blocked: its status is
  # only known after apply, when the check runs.
  lifecycle {
    postcondition {
      condition     = self.status == "ok"
      error_message = "dbt Cloud cannot read Tableau through this connection (${self.status}): ${self.status_message}"
    }
  }
}
