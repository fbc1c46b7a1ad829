# The project's production environment, by its deployment type: its ID is what
# dbtexposures_active_exposures takes.
data "dbtexposures_environments" "production" {
  project_id      = 123
  deployment_type = "production"
}

resource "dbtexposures_active_exposures" "production" {
  project_id     = 123
  environment_id = one(data.dbtexposures_environments.production.environments).id
}
