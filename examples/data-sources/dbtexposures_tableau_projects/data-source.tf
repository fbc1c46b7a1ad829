# Every project (folder) of the Tableau site in the provider's tableau settings.
data "dbtexposures_tableau_projects" "all" {}

output "tableau_project_paths" {
  value = [for p in data.dbtexposures_tableau_projects.all.projects : p.path]
}
