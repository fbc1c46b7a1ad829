package provider

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi/mquery"
)

var _ datasource.DataSourceWithConfigure = (*powerbiReportsDataSource)(nil)

// NewPowerBIReportsDataSource is dbtexposures_powerbi_reports.
func NewPowerBIReportsDataSource() datasource.DataSource { return &powerbiReportsDataSource{} }

type powerbiReportsDataSource struct{ src *powerbiSource }

type powerbiTableModel struct {
	Database       types.String `tfsdk:"database"`
	Schema         types.String `tfsdk:"schema"`
	Name           types.String `tfsdk:"name"`
	FullName       types.String `tfsdk:"full_name"`
	ConnectionType types.String `tfsdk:"connection_type"`
}

type powerbiQueryModel struct {
	Query          types.String `tfsdk:"query"`
	ConnectionType types.String `tfsdk:"connection_type"`
}

type powerbiReportModel struct {
	ID             types.String        `tfsdk:"id"`
	Name           types.String        `tfsdk:"name"`
	WorkspaceID    types.String        `tfsdk:"workspace_id"`
	WorkspaceName  types.String        `tfsdk:"workspace_name"`
	DatasetID      types.String        `tfsdk:"dataset_id"`
	URL            types.String        `tfsdk:"url"`
	OwnerName      types.String        `tfsdk:"owner_name"`
	OwnerEmail     types.String        `tfsdk:"owner_email"`
	Endorsement    types.String        `tfsdk:"endorsement"`
	ModifiedAt     types.String        `tfsdk:"modified_at"`
	UpstreamTables []powerbiTableModel `tfsdk:"upstream_tables"`
	NativeQueries  []powerbiQueryModel `tfsdk:"native_queries"`
}

type powerbiReportsModel struct {
	WorkspaceNames []types.String       `tfsdk:"workspace_names"`
	Endorsement    types.String         `tfsdk:"endorsement"`
	NameRegex      types.String         `tfsdk:"name_regex"`
	Reports        []powerbiReportModel `tfsdk:"reports"`
}

func (d *powerbiReportsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_powerbi_reports"
}

func (d *powerbiReportsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.Attribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Power BI reports with the warehouse tables their datasets read, found in each dataset table's " +
			"Power Query M (connectors, navigation steps, native SQL, shared expressions and parameters). A report whose dataset " +
			"lives in another workspace still gets its lineage. What cannot be followed is reported as a warning, never guessed. " +
			"Needs the provider's `powerbi` settings; the scan is shared with the other Power BI data sources.",
		Attributes: map[string]schema.Attribute{
			"workspace_names": schema.ListAttribute{ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Only reports in these workspaces (exact names). Default: every workspace."},
			"endorsement": schema.StringAttribute{Optional: true, MarkdownDescription: "Only reports with this endorsement: `Promoted` or `Certified`.",
				Validators: []validator.String{stringvalidator.OneOf("Promoted", "Certified")}},
			"name_regex": schema.StringAttribute{Optional: true, MarkdownDescription: "Only reports whose name matches this regular expression (Go RE2 syntax)."},
			"reports": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The reports, sorted by workspace name, then report name.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id": str("Report ID."), "name": str("Report name."), "workspace_id": str("Workspace ID."),
					"workspace_name": str("Workspace name."), "dataset_id": str("ID of the report's dataset (semantic model)."),
					"url":        str("The report's address: `https://app.powerbi.com/groups/{workspace}/reports/{id}`, or the API's own."),
					"owner_name": str("The report's owner, when Power BI names one."), "owner_email": str("The owner's email, or who last modified the report."),
					"endorsement": str("`Promoted`, `Certified` or null."), "modified_at": str("When the report was last modified, as Power BI says."),
					"upstream_tables": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "Warehouse tables the report's dataset reads.",
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"database": str("Database (BigQuery project, Databricks catalog, Oracle service)."), "schema": str("Schema (BigQuery dataset)."),
							"name": str("Table or view."), "full_name": str("`database.schema.name`."),
							"connection_type": str("`snowflake`, `sqlserver`, `postgres`, `redshift`, `oracle`, `bigquery` or `databricks`."),
						}}},
					"native_queries": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "SQL the dataset sends to the warehouse as written.",
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"query": str("The SQL, unescaped."), "connection_type": str("The warehouse it runs on."),
						}}},
				}},
			},
		},
	}
}

func (d *powerbiReportsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.src = powerbiFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *powerbiReportsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg powerbiReportsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var re *regexp.Regexp
	if !cfg.NameRegex.IsNull() {
		var err error
		if re, err = regexp.Compile(cfg.NameRegex.ValueString()); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("name_regex"), "Invalid name_regex", fmt.Sprintf("name_regex is not a valid regular expression: %v. Use Go's RE2 syntax, for example \"^Sales\".", err))
			return
		}
	}
	res, err := d.src.Scan(ctx)
	if err != nil {
		scanFailed(err, &resp.Diagnostics)
		return
	}
	spaces := map[string]bool{}
	for _, n := range cfg.WorkspaceNames {
		spaces[n.ValueString()] = true
	}
	datasets := res.Datasets()
	cfg.Reports = []powerbiReportModel{}
	var problems []string
	for _, w := range res.Workspaces {
		if len(spaces) > 0 && !spaces[w.Name] {
			continue
		}
		for _, r := range w.Reports {
			if (re != nil && !re.MatchString(r.Name)) || (!cfg.Endorsement.IsNull() && endorsement(r) != cfg.Endorsement.ValueString()) {
				continue
			}
			l := res.ReportLineage(datasets, r)
			for _, p := range l.Problems {
				problems = append(problems, r.Name+": "+p)
			}
			cfg.Reports = append(cfg.Reports, reportModel(w, r, l))
		}
	}
	sort.SliceStable(cfg.Reports, func(a, b int) bool {
		x, y := cfg.Reports[a], cfg.Reports[b]
		if x.WorkspaceName != y.WorkspaceName {
			return x.WorkspaceName.ValueString() < y.WorkspaceName.ValueString()
		}
		return x.Name.ValueString() < y.Name.ValueString()
	})
	if len(problems) > 0 {
		resp.Diagnostics.AddWarning("Some Power BI lineage could not be followed",
			fmt.Sprintf("%d dataset tables could not be traced to warehouse tables, so those reports may miss upstream tables:\n- %s",
				len(problems), strings.Join(first(problems, 10), "\n- ")))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &cfg)...)
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("… and %d more", len(s)-n))
	}
	return s
}

func endorsement(r powerbi.Report) string {
	if r.Endorsement == nil {
		return ""
	}
	return r.Endorsement.Endorsement
}

func reportModel(w powerbi.Workspace, r powerbi.Report, l powerbi.Lineage) powerbiReportModel {
	ownerName, ownerEmail := r.Owner()
	m := powerbiReportModel{ID: types.StringValue(r.ID), Name: types.StringValue(r.Name), WorkspaceID: types.StringValue(w.ID),
		WorkspaceName: types.StringValue(w.Name), DatasetID: nullIfEmpty(r.DatasetID), URL: types.StringValue(powerbi.ReportURL(w.ID, r)),
		OwnerName: nullIfEmpty(ownerName), OwnerEmail: nullIfEmpty(ownerEmail), Endorsement: nullIfEmpty(endorsement(r)),
		ModifiedAt: nullIfEmpty(r.ModifiedDateTime), UpstreamTables: []powerbiTableModel{}, NativeQueries: []powerbiQueryModel{}}
	for _, t := range l.Tables {
		m.UpstreamTables = append(m.UpstreamTables, powerbiTableModel{Database: types.StringValue(t.Database), Schema: types.StringValue(t.Schema),
			Name: types.StringValue(t.Name), FullName: types.StringValue(t.FullName()), ConnectionType: types.StringValue(mquery.Platform(t.Connector))})
	}
	for _, q := range l.NativeQueries {
		m.NativeQueries = append(m.NativeQueries, powerbiQueryModel{Query: types.StringValue(q.Query), ConnectionType: types.StringValue(mquery.Platform(q.Connector))})
	}
	return m
}

func nullIfEmpty(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}
