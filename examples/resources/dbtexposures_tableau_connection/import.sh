# Import by "<project_id>:<integration_id>".
# The token cannot be read back: with token_wo, the first apply after an import
# sends it once (token_wo_version goes from unset to your value).
terraform import dbtexposures_tableau_connection.analytics 123:456
