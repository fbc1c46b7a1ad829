# Every workspace the provider's Power BI service principal can scan.
data "dbtexposures_powerbi_workspaces" "all" {}

output "powerbi_workspaces" {
  value = [for w in data.dbtexposures_powerbi_workspaces.all.workspaces : w.name]
}
