# Import by "<project_id>:<connection_id>" (the connection's integration_id).
# The selection is read from dbt Cloud: everything the connection watches.
terraform import dbtexposures_auto_exposure_selection.analytics 123:456
