# Against dbt Cloud: the host_url default is https://cloud.getdbt.com/api.
# Credentials usually come from DBT_CLOUD_ACCOUNT_ID and DBT_CLOUD_TOKEN, and the
# Tableau settings from TABLEAU_HOST, TABLEAU_SITE_ID, TABLEAU_TOKEN_NAME and TABLEAU_TOKEN.
provider "dbtexposures" {
  account_id = 12345

  # Only the discovery data sources need Tableau.
  tableau = {
    host       = "10az.online.tableau.com"
    site_id    = "acme"
    token_name = "dbt-discovery"
    token      = var.tableau_pat_secret
  }
}

# Against a self-hosted dbtexposures-server.
provider "dbtexposures" {
  alias      = "selfhosted"
  host_url   = "http://127.0.0.1:8484/api"
  account_id = 1
  token      = var.dbtexposures_token
}

variable "tableau_pat_secret" {
  type      = string
  sensitive = true
}

variable "dbtexposures_token" {
  type      = string
  sensitive = true
}
