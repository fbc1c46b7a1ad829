terraform {
  required_version = ">= 1.11"
  required_providers {
    dbtexposures = {
      source  = "dbtexposures/dbtexposures"
      version = "~> 0.1"
    }
  }
}

# One provider block: dbt Cloud for the resources, Tableau and Power BI for the
# discovery data sources. Every value can come from the environment instead:
# DBT_CLOUD_HOST_URL, DBT_CLOUD_ACCOUNT_ID, DBT_CLOUD_TOKEN, TABLEAU_HOST,
# TABLEAU_SITE_ID, TABLEAU_TOKEN_NAME, TABLEAU_TOKEN, POWERBI_TENANT_ID,
# POWERBI_CLIENT_ID and POWERBI_CLIENT_SECRET.
provider "dbtexposures" {
  # The default; against a self-hosted dbtexposures-server use e.g. "http://127.0.0.1:8484/api".
  host_url   = "https://cloud.getdbt.com/api"
  account_id = 12345
  token      = var.dbt_cloud_token

  # Only the discovery data sources need Tableau. Give them a personal access
  # token of their own: Tableau keeps one session per token, so sharing it with
  # the dbt Cloud connection makes each end the other's sessions.
  tableau = {
    host       = "10az.online.tableau.com"
    site_id    = "acme"
    token_name = "dbt-discovery"
    token      = var.tableau_discovery_pat_secret
  }

  # Only the dbtexposures_powerbi_* data sources need Power BI: an Entra ID app
  # whose service principal may use Power BI's read-only admin APIs.
  powerbi = {
    tenant_id     = "contoso.onmicrosoft.com"
    client_id     = "00000000-0000-0000-0000-000000000000"
    client_secret = var.powerbi_client_secret
  }
}

variable "dbt_cloud_token" {
  type      = string
  sensitive = true
}

variable "tableau_discovery_pat_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "powerbi_client_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}
