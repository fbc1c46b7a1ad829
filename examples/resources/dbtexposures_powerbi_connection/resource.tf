variable "powerbi_client_secret" {
  type      = string
  sensitive = true
  ephemeral = true # Terraform 1.10+: the value is never written to plan or state
}

# The Power BI tenant whose reports become dbt auto-exposures. The app
# registration's service principal must be allowed to use read-only admin
# APIs (tenant setting), with enhanced metadata on so datasets come with tables.
resource "dbtexposures_powerbi_connection" "analytics" {
  project_id = 123
  tenant_id  = "contoso.onmicrosoft.com"
  client_id  = "11111111-2222-3333-4444-555555555555"

  # Write-only: sent, never stored in state.
  # Change client_secret_wo_version to send a rotated secret.
  client_secret_wo         = var.powerbi_client_secret
  client_secret_wo_version = 1

  # Optional: fail `terraform plan` (a CI drift check) while dbt Cloud cannot
  # read Power BI through the connection. A plan that changes the connection,
  # such as one that bumps client_secret_wo_version, is not blocked: its status is
  # only known after apply, when the check runs.
  lifecycle {
    postcondition {
      condition     = self.status == "ok"
      error_message = "dbt Cloud cannot read Power BI through this connection (${self.status}): ${self.status_message}"
    }
  }
}
