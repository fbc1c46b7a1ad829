package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/exposures"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
)

// NewExposuresDataSource is dbtexposures_exposures.
func NewExposuresDataSource() datasource.DataSource { return &exposuresDataSource{} }

// exposuresDataSource reads every BI tool the provider is configured for, or
// the dashboards a connection's selection imports.
type exposuresDataSource struct {
	tableau *tableauSource // nil when Tableau is not configured
	powerbi *powerbiSource // nil when Power BI is not configured
	data    *providerData  // dbt Cloud, for a selection
}

// dashboardFilterModel says which dashboards to read: the filters of each
// tool, or a connection's selection, and whether with their columns.
type dashboardFilterModel struct {
	workbookFilterModel
	PowerBIWorkspaceNames []types.String `tfsdk:"powerbi_workspace_names"`
	PowerBIEndorsement    types.String   `tfsdk:"powerbi_endorsement"`
	PowerBINameRegex      types.String   `tfsdk:"powerbi_name_regex"`
	ProjectID             types.Int64    `tfsdk:"project_id"`
	ConnectionID          types.Int64    `tfsdk:"connection_id"`
	IncludeColumns        types.Bool     `tfsdk:"include_columns"`
}

type exposuresModel struct {
	dashboardFilterModel
	ManifestPath     types.String `tfsdk:"manifest_path"`
	CatalogPath      types.String `tfsdk:"catalog_path"`
	Maturity         types.String `tfsdk:"maturity"`
	OwnerName        types.String `tfsdk:"owner_name"`
	OwnerEmail       types.String `tfsdk:"owner_email"`
	Exposures        rawListValue `tfsdk:"exposures"` // written by exposuresResult
	YAML             types.String `tfsdk:"yaml"`
	UnmatchedTables  rawListValue `tfsdk:"unmatched_tables"`  // written by unmatchedResult
	UnmatchedColumns rawListValue `tfsdk:"unmatched_columns"` // written by unmatchedColumnsResult
}

func (d *exposuresDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_exposures"
}

func (d *exposuresDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := dashboardFilterAttributes()
	attrs["manifest_path"] = schema.StringAttribute{
		Required:            true,
		MarkdownDescription: "Path to dbt's `manifest.json` (schema v10 or later; `dbt parse` writes it to `target/`).",
		Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
	}
	attrs["maturity"] = schema.StringAttribute{
		Optional:            true,
		MarkdownDescription: "Maturity of every exposure: `low`, `medium` or `high`. Left out of the YAML when unset.",
		Validators:          []validator.String{stringvalidator.OneOf("low", "medium", "high")},
	}
	attrs["owner_name"] = schema.StringAttribute{Optional: true, MarkdownDescription: "Owner name for dashboards whose owner the BI tool does not know."}
	attrs["owner_email"] = schema.StringAttribute{Optional: true, MarkdownDescription: "Owner email for dashboards whose owner the BI tool does not know."}
	exposure := exposureObject()
	attrs["exposures"] = schema.ListNestedAttribute{
		Computed:            true,
		MarkdownDescription: "One exposure per matching Tableau workbook or Power BI report that reads at least one dbt model, seed, snapshot or source, sorted by name.",
		NestedObject:        exposure,
		CustomType:          rawList(exposure),
	}
	attrs["yaml"] = computedString("A dbt properties file (`version: 2`, `exposures:`) with the exposures, valid for dbt Core and dbt Cloud; write it into your dbt project with `local_file`.")
	unmatched := unmatchedObject()
	attrs["unmatched_tables"] = schema.ListNestedAttribute{
		Computed:            true,
		MarkdownDescription: "Tables the matching dashboards read that are no dbt node (`database.schema.name`), so gaps in lineage are visible.",
		NestedObject:        unmatched,
		CustomType:          rawList(unmatched),
	}
	addColumnArguments(attrs)
	resp.Schema = schema.Schema{
		MarkdownDescription: "dbt exposures for Tableau workbooks and Power BI reports: each dashboard's upstream tables and SQL are matched to the nodes " +
			"of a dbt manifest by `database.schema.identifier`, case-insensitively and never by substring, and rendered as dbt YAML. " +
			"Works for dbt Core projects too. Reads every BI tool the provider has settings for (`tableau`, `powerbi`, or both, whose " +
			"exposures then come together with unique names); the `project_names`, `include_subprojects`, `tags` and `name_regex` " +
			"filters apply to Tableau, the `powerbi_` ones to Power BI. Power BI exposures carry `meta.powerbi_report_id` and " +
			"`meta.powerbi_workspace`, Tableau ones `meta.tableau_workbook_id` and `meta.tableau_project_path`.",
		Attributes: attrs,
	}
}

// dashboardFilterAttributes are the arguments of dashboardFilterModel but
// include_columns, whose meaning each data source says.
func dashboardFilterAttributes() map[string]schema.Attribute {
	attrs := workbookFilterAttributes()
	attrs["project_id"] = schema.Int64Attribute{Optional: true, MarkdownDescription: "With `connection_id`: only the dashboards the " +
		"connection's selection imports (its watched folders, everything below them, and its watched dashboards), as dbt Cloud and " +
		"dbtexposures-server import them. The provider reads the selection from dbt Cloud and the dashboards with its own `tableau` " +
		"or `powerbi` settings (the connection's tool); the filters then narrow it further.",
		Validators: []validator.Int64{int64validator.AlsoRequires(path.MatchRoot("connection_id"))}}
	attrs["connection_id"] = schema.Int64Attribute{Optional: true, MarkdownDescription: "With `project_id`: the connection " +
		"(`integration_id` of a connection resource) whose selection to render.",
		Validators: []validator.Int64{int64validator.AlsoRequires(path.MatchRoot("project_id"))}}
	attrs["powerbi_workspace_names"] = schema.ListAttribute{ElementType: types.StringType, Optional: true,
		MarkdownDescription: "Power BI: only reports in these workspaces (exact names). Default: every workspace."}
	attrs["powerbi_endorsement"] = schema.StringAttribute{Optional: true, MarkdownDescription: "Power BI: only reports with this endorsement, `Promoted` or `Certified`.",
		Validators: []validator.String{stringvalidator.OneOf("Promoted", "Certified")}}
	attrs["powerbi_name_regex"] = schema.StringAttribute{Optional: true, MarkdownDescription: "Power BI: only reports whose name matches this regular expression (Go RE2 syntax)."}
	return attrs
}

// computedString is a computed string attribute.
func computedString(desc string) schema.Attribute {
	return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
}

// exposureObject is one exposure of the `exposures` attribute.
func exposureObject() schema.NestedAttributeObject {
	str := computedString
	return schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
		"name":              str("Exposure name: the dashboard's name in snake_case, unique across tools and stable (a short ID suffix on collisions)."),
		"label":             str("The workbook's or report's name."),
		"type":              str("Always `dashboard`."),
		"tool":              str("`tableau` or `powerbi`."),
		"url":               str("The dashboard's page in the BI tool."),
		"maturity":          str("The configured maturity, or empty."),
		"owner_name":        str("Owner name from the BI tool, or the default."),
		"owner_email":       str("Owner email from the BI tool, or the default."),
		"description":       str("The workbook's description."),
		"depends_on":        schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Sorted `ref('…')` and `source('…', '…')` strings."},
		"workbook_id":       str("Tableau workbook LUID; null for Power BI."),
		"powerbi_report_id": str("Power BI report ID; null for Tableau."),
		"powerbi_workspace": str("Power BI workspace name; null for Tableau."),
		"columns": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "With `include_columns`: the columns the " +
			"dashboard uses of each dbt node it depends on, sorted by node; null without `include_columns`.",
			NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
				"node":    str("The dbt node's unique ID."),
				"columns": schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Its columns the dashboard uses, lower-cased and sorted."},
			}}},
	}}
}

// addColumnArguments adds include_columns, catalog_path and unmatched_columns.
func addColumnArguments(attrs map[string]schema.Attribute) {
	attrs["include_columns"] = schema.BoolAttribute{Optional: true, MarkdownDescription: "Read the warehouse columns each " +
		"dashboard uses and match them to its dbt nodes' columns, case-insensitively: each exposure's `columns`, " +
		"`unmatched_columns`, and `referenced_columns` (by node unique ID) in the YAML's `config.meta`. Default `false`: " +
		"none of these, and no column lineage is read."}
	attrs["catalog_path"] = schema.StringAttribute{Optional: true, MarkdownDescription: "With `include_columns`: path to " +
		"`dbt docs generate`'s `catalog.json`. Its columns (the warehouse's own) win over the manifest's documented ones.",
		Validators: []validator.String{stringvalidator.LengthAtLeast(1)}}
	unmatchedCols := unmatchedColumnObject()
	attrs["unmatched_columns"] = schema.ListNestedAttribute{
		Computed: true, NestedObject: unmatchedCols, CustomType: rawList(unmatchedCols),
		MarkdownDescription: "With `include_columns`: columns a dashboard uses that its dbt node does not have, so the dashboard " +
			"is already broken. Only nodes whose columns are known (from `catalog_path`, or documented in the manifest) are " +
			"checked. Null without `include_columns`.",
	}
}

// unmatchedColumnObject is one column of `unmatched_columns`.
func unmatchedColumnObject() schema.NestedAttributeObject {
	return schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
		"workbook_id":       computedString("Tableau workbook LUID; null for Power BI."),
		"powerbi_report_id": computedString("Power BI report ID; null for Tableau."),
		"node":              computedString("The dbt node's unique ID."),
		"column":            computedString("The column the dashboard uses, lower-cased, which the node does not have."),
	}}
}

// unmatchedObject is one table of the `unmatched_tables` attribute.
func unmatchedObject() schema.NestedAttributeObject {
	return schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
		"workbook_id":       computedString("Tableau workbook LUID; null for Power BI."),
		"powerbi_report_id": computedString("Power BI report ID; null for Tableau."),
		"table":             computedString("The table, `database.schema.name`."),
	}}
}

func (d *exposuresDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	pd := providerDataFrom(req.ProviderData, &resp.Diagnostics)
	if pd == nil {
		return
	}
	d.data = pd
	if pd.tableau.unavailable() == "" {
		d.tableau = pd.tableau
	}
	if pd.powerbi.unavailable() == "" {
		d.powerbi = pd.powerbi
	}
	if d.tableau == nil && d.powerbi == nil {
		resp.Diagnostics.AddError("No BI tool configured",
			fmt.Sprintf("dbtexposures_exposures reads Tableau, Power BI or both, but the provider has settings for neither.\n\nTableau: %s\nPower BI: %s",
				pd.tableau.unavailable(), pd.powerbi.unavailable()))
	}
}

func (d *exposuresDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	readLarge(ctx, d, req, resp)
}

// results matches the filtered dashboards to the manifest's nodes and renders them.
func (d *exposuresDataSource) results(ctx context.Context, config tfsdk.Config, diags *diag.Diagnostics) map[string]resultAttr {
	var cfg exposuresModel
	if diags.Append(config.Get(ctx, &cfg)...); diags.HasError() {
		return nil
	}
	ix := dbtIndex(cfg, diags)
	if diags.HasError() {
		return nil
	}
	dashboards, sources := d.dashboards(ctx, cfg.dashboardFilterModel, diags)
	if diags.HasError() {
		return nil
	}
	if !cfg.IncludeColumns.ValueBool() {
		dashboards = withoutColumns(dashboards)
	}
	res := exposures.BuildDashboards(dashboards, ix, exposures.Options{
		Maturity: cfg.Maturity.ValueString(), DefaultOwnerName: cfg.OwnerName.ValueString(), DefaultOwnerEmail: cfg.OwnerEmail.ValueString(),
	})
	yml, err := exposures.Render(res.Exposures, strings.Join(sources, " and "))
	if err != nil {
		diags.AddError("Cannot render exposures YAML", err.Error())
		return nil
	}
	return map[string]resultAttr{
		"yaml":              stringResult(string(yml)),
		"exposures":         exposuresResult(res.Exposures),
		"unmatched_tables":  unmatchedResult(res.Unmatched),
		"unmatched_columns": unmatchedColumnsResult(res.UnmatchedColumns, cfg.IncludeColumns.ValueBool()),
	}
}

// dbtIndex reads the manifest, and the catalog when one is given.
func dbtIndex(cfg exposuresModel, diags *diag.Diagnostics) *exposures.Index {
	manifest := dbtArtifact("manifest_path", cfg.ManifestPath, exposures.LoadManifestFile, diags)
	if manifest == nil {
		return nil
	}
	ix := exposures.NewIndex(manifest)
	if cfg.CatalogPath.IsNull() {
		return ix
	}
	if !cfg.IncludeColumns.ValueBool() {
		diags.AddAttributeError(path.Root("catalog_path"), "catalog_path without include_columns",
			"The catalog's columns are only matched with include_columns = true. Set include_columns = true, or remove catalog_path.")
		return nil
	}
	if catalog := dbtArtifact("catalog_path", cfg.CatalogPath, exposures.LoadCatalogFile, diags); catalog != nil {
		return ix.WithCatalog(catalog)
	}
	return nil
}

// workbooks are the filtered Tableau workbooks, with the columns their
// sheets use when include_columns is set.
func (d *exposuresDataSource) workbooks(ctx context.Context, cfg dashboardFilterModel, diags *diag.Diagnostics) []tableau.Workbook {
	return d.tableau.FilteredWorkbooksWithColumns(ctx, cfg.workbookFilterModel, cfg.IncludeColumns.ValueBool(), diags)
}

// dashboards reads the filtered dashboards of every configured tool, and names
// where they came from. Power BI filters without Power BI settings are an error.
func (d *exposuresDataSource) dashboards(ctx context.Context, cfg dashboardFilterModel, diags *diag.Diagnostics) ([]bi.Dashboard, []string) {
	if !cfg.ConnectionID.IsNull() {
		return d.selected(ctx, cfg, diags)
	}
	var out []bi.Dashboard
	var sources []string
	if d.tableau != nil {
		out = tableau.Dashboards(d.workbooks(ctx, cfg, diags))
		sources = append(sources, "Tableau at "+d.tableau.client.Host())
	}
	if d.powerbi == nil {
		for _, f := range []struct {
			arg string
			set bool
		}{{"powerbi_workspace_names", cfg.PowerBIWorkspaceNames != nil}, {"powerbi_endorsement", !cfg.PowerBIEndorsement.IsNull()},
			{"powerbi_name_regex", !cfg.PowerBINameRegex.IsNull()}} {
			if arg := f.arg; f.set {
				diags.AddAttributeError(path.Root(arg), "Power BI is not configured",
					arg+" filters Power BI reports, but the provider has no powerbi settings. Add the provider's powerbi block (or the POWERBI_* environment variables), or remove "+arg+".")
			}
		}
		return out, sources
	}
	found := d.powerbi.FilteredReports(ctx, reportFilter{WorkspaceNames: cfg.PowerBIWorkspaceNames, Endorsement: cfg.PowerBIEndorsement,
		NameRegex: cfg.PowerBINameRegex}, "powerbi_", diags)
	for _, f := range found {
		out = append(out, f.Dashboard())
	}
	return out, append(sources, "Power BI tenant "+d.powerbi.tenant)
}

// exposuresResult writes the `exposures` attribute.
func exposuresResult(list []exposures.Exposure) resultAttr {
	return func(p *packer, t tftypes.Type) {
		p.rows(t, rows{len(list), func(i int, attr string) cell { return exposureAttr(&list[i], attr) }})
	}
}

// exposureAttr is an exposure's value of attr, in the schema's words.
func exposureAttr(e *exposures.Exposure, attr string) cell {
	switch attr {
	case "depends_on":
		return strs(e.DependsOn)
	case "tool":
		return str(e.Tool.Name)
	case "workbook_id", "powerbi_report_id":
		return opt(dashboardID(e.Tool, e.DashboardID, attr))
	case "powerbi_workspace":
		return opt(workspace(*e))
	case "columns":
		return exposureColumns(e)
	}
	return exposureText(e, attr)
}

// exposureText is an exposure's text attributes.
func exposureText(e *exposures.Exposure, attr string) cell {
	switch attr {
	case "name":
		return str(e.Name)
	case "label":
		return str(e.Label)
	case "type":
		return str(e.Type)
	case "url":
		return str(e.URL)
	case "maturity":
		return str(e.Maturity)
	case "owner_name":
		return str(e.OwnerName)
	case "owner_email":
		return str(e.OwnerEmail)
	case "description":
		return str(e.Description)
	}
	return unknownAttr(attr)
}

// unmatchedResult writes the `unmatched_tables` attribute.
func unmatchedResult(list []exposures.Unmatched) resultAttr {
	return func(p *packer, t tftypes.Type) {
		p.rows(t, rows{len(list), func(i int, attr string) cell {
			u := &list[i]
			switch attr {
			case "table":
				return str(u.Table)
			case "workbook_id", "powerbi_report_id":
				return opt(dashboardID(u.Tool, u.DashboardID, attr))
			}
			return unknownAttr(attr)
		}})
	}
}

// exposureColumns are an exposure's columns by node; null when not read.
func exposureColumns(e *exposures.Exposure) cell {
	if e.Columns == nil {
		return null()
	}
	nodes := make([]string, 0, len(e.Columns))
	for n := range e.Columns {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	return nested(rows{len(nodes), func(i int, a string) cell {
		if a == "columns" {
			return strs(e.Columns[nodes[i]])
		}
		return pick(a, "node", nodes[i])
	}})
}

// unmatchedColumnsResult writes `unmatched_columns`; null without include_columns.
func unmatchedColumnsResult(list []exposures.UnmatchedColumn, read bool) resultAttr {
	return func(p *packer, t tftypes.Type) {
		if !read {
			p.value(t, null())
			return
		}
		p.rows(t, rows{len(list), func(i int, attr string) cell {
			u := &list[i]
			switch attr {
			case "workbook_id", "powerbi_report_id":
				return opt(dashboardID(u.Tool, u.DashboardID, attr))
			}
			return pick(attr, "node", u.Node, "column", u.Column)
		}})
	}
}

// dashboardID is id when attr is the tool's key for its dashboards' IDs
// (workbook_id, powerbi_report_id), and "" (null) in the other tools' attribute.
func dashboardID(tool bi.Tool, id, attr string) string {
	if tool.DashboardKey == attr {
		return id
	}
	return ""
}

// workspace is a Power BI exposure's workspace; null for other tools.
func workspace(e exposures.Exposure) string {
	if e.Tool == powerbi.Tool {
		return e.Folder
	}
	return ""
}
