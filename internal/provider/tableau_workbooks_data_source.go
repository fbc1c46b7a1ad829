package provider

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
)

// NewTableauWorkbooksDataSource is dbtexposures_tableau_workbooks.
func NewTableauWorkbooksDataSource() datasource.DataSource {
	return &tableauWorkbooksDataSource{tableauData("_tableau_workbooks")}
}

type tableauWorkbooksDataSource struct{ toolDataSource[*tableauSource] }

// workbookFilterModel holds the filters shared with dbtexposures_exposures.
type workbookFilterModel struct {
	ProjectNames       types.Set    `tfsdk:"project_names"`
	IncludeSubprojects types.Bool   `tfsdk:"include_subprojects"`
	Tags               types.Set    `tfsdk:"tags"`
	NameRegex          types.String `tfsdk:"name_regex"`
}

type tableauWorkbooksModel struct {
	workbookFilterModel
	IncludeColumns types.Bool   `tfsdk:"include_columns"`
	Workbooks      rawListValue `tfsdk:"workbooks"` // set from workbooksValue
}

// workbookFilterAttributes are the filter arguments, shared with dbtexposures_exposures.
func workbookFilterAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"project_names": schema.SetAttribute{
			Optional: true, ElementType: types.StringType,
			MarkdownDescription: "Only workbooks in these projects. A value with `/` is a project path (`Finance/Quarterly`), otherwise a project name.",
		},
		"include_subprojects": schema.BoolAttribute{
			Optional:            true,
			MarkdownDescription: "With `project_names`, also workbooks in every project below them. Default `false`.",
		},
		"tags": schema.SetAttribute{
			Optional: true, ElementType: types.StringType,
			MarkdownDescription: "Only workbooks with at least one of these tags.",
		},
		"name_regex": schema.StringAttribute{
			Optional:            true,
			MarkdownDescription: "Only workbooks whose name matches this regular expression (Go RE2 syntax).",
		},
	}
}

func workbookAttributes() map[string]schema.Attribute {
	attrs := columnAttributes("its sheets use, through calculated fields, published data sources and custom SQL")
	for name, a := range workbookLineageAttributes() {
		attrs[name] = a
	}
	return attrs
}

func workbookLineageAttributes() map[string]schema.Attribute {
	str := func(desc string) schema.Attribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	return map[string]schema.Attribute{
		"id":           str("Workbook LUID: what `dbtexposures_auto_exposure_selection.workbook_ids` takes."),
		"name":         str("Workbook name."),
		"project_id":   str("LUID of the workbook's project."),
		"project_name": str("Name of the workbook's project."),
		"project_path": str("Path of the workbook's project (`Finance/Quarterly`)."),
		"owner_name":   str("Owner's display name."),
		"owner_email":  str("Owner's email address."),
		"url":          str("The workbook's page in Tableau's web UI."),
		"updated_at":   str("When the workbook was last updated."),
		"tags":         schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Tags, sorted."},
		"upstream_tables": schema.ListNestedAttribute{
			Computed: true, MarkdownDescription: "Warehouse tables the workbook reads, as Tableau's lineage lists them.",
			NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
				"database":        str("Database name."),
				"schema":          str("Schema name."),
				"name":            str("Table name."),
				"full_name":       str("Tableau's full name, often bracketed like `[SCHEMA].[NAME]`."),
				"connection_type": str("Tableau's connection type, e.g. `snowflake`."),
			}},
		},
		"extracts": schema.ListNestedAttribute{
			Computed: true, MarkdownDescription: "What refreshing the workbook's data takes: each published data source with extracts it uses " +
				"(`type = \"datasource\"`), then its own embedded extracts (`type = \"workbook\"`, the workbook's LUID). Orchestrators " +
				"(Airflow, Dagster) can refresh them after dbt builds; dbtexposures-server's active exposures do.",
			NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
				"type": str("`datasource` or `workbook`."),
				"id":   str("LUID of the data source, or of the workbook for embedded extracts."),
				"name": str("Name of the data source or workbook."),
			}},
		},
		"custom_sql": schema.ListNestedAttribute{
			Computed: true, MarkdownDescription: "Custom SQL queries the workbook runs.",
			NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
				"query":           str("The SQL text."),
				"database":        str("Database the query runs in."),
				"connection_type": str("Tableau's connection type."),
			}},
		},
	}
}

func (d *tableauWorkbooksDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := workbookFilterAttributes()
	attrs["include_columns"] = includeColumnsAttribute("each workbook's sheets")
	nested := schema.NestedAttributeObject{Attributes: workbookAttributes()}
	attrs["workbooks"] = schema.ListNestedAttribute{
		Computed:            true,
		MarkdownDescription: "Matching workbooks, sorted by project path, then name. An empty list when none match.",
		NestedObject:        nested,
		CustomType:          rawList(nested),
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Workbooks of the configured Tableau site with their upstream tables and custom SQL, read during plan " +
			"from Tableau's Metadata API in pages (a fixed number of requests per page, none per workbook). " +
			"Use it to choose what `dbtexposures_auto_exposure_selection` imports. Needs the provider's `tableau` settings.",
		Attributes: attrs,
	}
}

func (d *tableauWorkbooksDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	readLarge(ctx, d, req, resp)
}

// results reads the workbooks that pass the filters.
func (d *tableauWorkbooksDataSource) results(ctx context.Context, config tfsdk.Config, diags *diag.Diagnostics) map[string]resultAttr {
	var cfg tableauWorkbooksModel
	if diags.Append(config.Get(ctx, &cfg)...); diags.HasError() {
		return nil
	}
	selected := d.src.FilteredWorkbooksWithColumns(ctx, cfg.workbookFilterModel, cfg.IncludeColumns.ValueBool(), diags)
	return map[string]resultAttr{"workbooks": workbooksResult(selected)}
}

// workbooksResult writes the `workbooks` attribute.
func workbooksResult(wbs []tableau.Workbook) resultAttr {
	return func(p *packer, t tftypes.Type) {
		p.rows(t, rows{len(wbs), func(i int, attr string) cell { return workbookAttr(&wbs[i], attr) }})
	}
}

// workbookAttr is a workbook's value of attr, in the schema's words.
func workbookAttr(w *tableau.Workbook, attr string) cell {
	switch attr {
	case "id":
		return str(w.ID)
	case "name":
		return str(w.Name)
	case "project_id":
		return str(w.ProjectID)
	case "project_name":
		return str(w.ProjectName)
	case "project_path":
		return str(w.ProjectPath)
	case "owner_name":
		return str(w.OwnerName)
	case "owner_email":
		return str(w.OwnerEmail)
	case "url":
		return str(w.URL)
	case "updated_at":
		return str(w.UpdatedAt)
	case "tags":
		return strs(w.Tags)
	}
	if c, ok := columnCell(attr, w.Columns != nil, func() []string { return columnNames(w.Columns, tableauColumn) }, w.UnresolvedColumns); ok {
		return c
	}
	return workbookLineage(w, attr)
}

// workbookLineage is a workbook's tables, custom SQL or extracts.
func workbookLineage(w *tableau.Workbook, attr string) cell {
	switch attr {
	case "upstream_tables":
		return nested(rows{len(w.UpstreamTables), func(i int, a string) cell { return tableAttr(&w.UpstreamTables[i], a) }})
	case "custom_sql":
		return nested(rows{len(w.CustomSQL), func(i int, a string) cell { return customSQLAttr(&w.CustomSQL[i], a) }})
	case "extracts":
		return nested(rows{len(w.Extracts), func(i int, a string) cell {
			x := &w.Extracts[i]
			return pick(a, "type", x.Type, "id", x.ID, "name", x.Name)
		}})
	}
	return unknownAttr(attr)
}

// tableauColumn is a used column's parts, for columnNames.
func tableauColumn(c *tableau.UsedColumn) (string, string, string, string) {
	return c.Table.Database, c.Table.Schema, c.Table.Name, c.Name
}

func tableAttr(t *tableau.Table, attr string) cell {
	switch attr {
	case "database":
		return str(t.Database)
	case "schema":
		return str(t.Schema)
	case "name":
		return str(t.Name)
	case "full_name":
		return str(t.FullName)
	case "connection_type":
		return str(t.ConnectionType)
	}
	return unknownAttr(attr)
}

func customSQLAttr(c *tableau.CustomSQL, attr string) cell {
	switch attr {
	case "query":
		return str(c.Query)
	case "database":
		return str(c.Database)
	case "connection_type":
		return str(c.ConnectionType)
	}
	return unknownAttr(attr)
}

// FilteredWorkbooks reads the site's workbooks and applies the data source's
// filters; problems are added to diags.
func (s *tableauSource) FilteredWorkbooks(ctx context.Context, f workbookFilterModel, diags *diag.Diagnostics) []tableau.Workbook {
	projects, workbooks, err := s.Workbooks(ctx)
	if err != nil {
		s.report("read Tableau workbooks", err, diags)
		return nil
	}
	return filterWorkbooks(ctx, f, projects, workbooks, s.client.Host(), diags)
}

// filterWorkbooks applies project_names (with include_subprojects), tags and name_regex.
func filterWorkbooks(ctx context.Context, f workbookFilterModel, projects []tableau.Project, workbooks []tableau.Workbook, host string, diags *diag.Diagnostics) []tableau.Workbook {
	var names, tags []string
	diags.Append(f.ProjectNames.ElementsAs(ctx, &names, false)...)
	diags.Append(f.Tags.ElementsAs(ctx, &tags, false)...)
	var re *regexp.Regexp
	if v := f.NameRegex.ValueString(); v != "" {
		var err error
		if re, err = regexp.Compile(v); err != nil {
			diags.AddAttributeError(path.Root("name_regex"), "Invalid name_regex",
				fmt.Sprintf("%q is not a valid regular expression (Go RE2 syntax): %s", v, err))
		}
	}
	if diags.HasError() {
		return nil
	}
	// Resolve project names and paths to the paths of the projects they name.
	var paths []string
	for _, n := range names {
		found := false
		for _, p := range projects {
			if p.Path == n || (!strings.Contains(n, "/") && p.Name == n) {
				paths = append(paths, p.Path)
				found = true
			}
		}
		if !found {
			diags.AddAttributeError(path.Root("project_names"), "Unknown Tableau project",
				fmt.Sprintf("No project named %q exists on Tableau at %s. Use a name or path from the dbtexposures_tableau_projects data source (top-level projects: %s).",
					n, host, strings.Join(topLevel(projects), ", ")))
		}
	}
	if diags.HasError() {
		return nil
	}
	sub := f.IncludeSubprojects.ValueBool()
	out := []tableau.Workbook{}
	for _, w := range workbooks {
		if len(paths) > 0 && !inProjects(w.ProjectPath, paths, sub) {
			continue
		}
		if len(tags) > 0 && !anyTag(w.Tags, tags) {
			continue
		}
		if re != nil && !re.MatchString(w.Name) {
			continue
		}
		out = append(out, w)
	}
	return out
}

func topLevel(projects []tableau.Project) []string {
	var out []string
	for _, p := range projects {
		if p.ParentID == "" {
			out = append(out, fmt.Sprintf("%q", p.Name))
		}
	}
	sort.Strings(out)
	return out
}

func inProjects(p string, paths []string, sub bool) bool {
	for _, want := range paths {
		if p == want || (sub && strings.HasPrefix(p, want+"/")) {
			return true
		}
	}
	return false
}

func anyTag(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}
