# Import by "<project_id>:<environment_id>".
terraform import dbtexposures_active_exposures.production 123:456
