# Import by "<project_id>:<integration_id>".
# The client secret cannot be read back: with client_secret_wo, the first apply
# after an import sends it once (client_secret_wo_version goes from unset to your value).
terraform import dbtexposures_powerbi_connection.analytics 123:789
