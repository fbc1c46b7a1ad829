# Against dbt Cloud: the host_url default is https://cloud.getdbt.com/api.
# Credentials usually come from DBT_CLOUD_ACCOUNT_ID and DBT_CLOUD_TOKEN.
provider "dbtexposures" {
  account_id = 12345
}

# Against a self-hosted dbtexposures-server.
provider "dbtexposures" {
  alias      = "selfhosted"
  host_url   = "http://127.0.0.1:8484/api"
  account_id = 1
  token      = var.dbtexposures_token
}

variable "dbtexposures_token" {
  type      = string
  sensitive = true
}
