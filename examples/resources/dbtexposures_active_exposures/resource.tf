# After the production jobs build models, refresh the Tableau extracts built on
# them, at most once an hour each.
resource "dbtexposures_active_exposures" "production" {
  project_id          = 123
  environment_id      = 456
  enabled             = true
  build_after_minutes = 60
}
