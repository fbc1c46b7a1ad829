package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi/mquery"
)

var _ datasource.DataSourceWithConfigure = (*powerbiReportsDataSource)(nil)

// NewPowerBIReportsDataSource is dbtexposures_powerbi_reports.
func NewPowerBIReportsDataSource() datasource.DataSource { return &powerbiReportsDataSource{} }

type powerbiReportsDataSource struct{ src *powerbiSource }

// reportRow is one report of the result; "" is null for the optional fields.
type reportRow struct {
	ID, Name, WorkspaceID, WorkspaceName, DatasetID, URL string
	OwnerName, OwnerEmail, Endorsement, ModifiedAt       string
	Tables                                               []mquery.Table
	Queries                                              []mquery.NativeQuery
}

type powerbiReportsModel struct {
	WorkspaceNames []types.String `tfsdk:"workspace_names"`
	Endorsement    types.String   `tfsdk:"endorsement"`
	NameRegex      types.String   `tfsdk:"name_regex"`
	Reports        rawListValue   `tfsdk:"reports"` // set from reportsValue
}

func (d *powerbiReportsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_powerbi_reports"
}

func (d *powerbiReportsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.Attribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	report := schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
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
	}}
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
				NestedObject:        report,
				CustomType:          rawList(report),
			},
		},
	}
}

func (d *powerbiReportsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.src = powerbiFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *powerbiReportsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	readLarge(ctx, d, req, resp)
}

// results filters the scanned reports and follows each one's lineage.
func (d *powerbiReportsDataSource) results(ctx context.Context, config tfsdk.Config, diags *diag.Diagnostics) map[string]resultAttr {
	var cfg powerbiReportsModel
	if diags.Append(config.Get(ctx, &cfg)...); diags.HasError() {
		return nil
	}
	filter := reportFilter{WorkspaceNames: cfg.WorkspaceNames, Endorsement: cfg.Endorsement, NameRegex: cfg.NameRegex}
	found := d.src.FilteredReports(ctx, filter, "", diags)
	if diags.HasError() {
		return nil
	}
	rows := make([]reportRow, len(found))
	for i, f := range found {
		rows[i] = newReportRow(f)
	}
	return map[string]resultAttr{"reports": {
		value: func(t tftypes.Type) tftypes.Value { return reportsValue(t.(tftypes.List), rows) },
		pack:  func(enc *msgpack.Encoder) error { return packReports(enc, rows) },
	}}
}

// reportFilter is the report filters of dbtexposures_powerbi_reports, which
// dbtexposures_exposures has too, with a prefix.
type reportFilter struct {
	WorkspaceNames []types.String
	Endorsement    types.String
	NameRegex      types.String
}

// FilteredReports scans (once per provider process) and keeps the reports the
// filter accepts, with their lineage; what lineage cannot follow is one
// warning. prefix is the filter arguments' prefix, for errors.
func (s *powerbiSource) FilteredReports(ctx context.Context, f reportFilter, prefix string, diags *diag.Diagnostics) []powerbi.Found {
	var re *regexp.Regexp
	if !f.NameRegex.IsNull() {
		var err error
		if re, err = regexp.Compile(f.NameRegex.ValueString()); err != nil {
			arg := prefix + "name_regex"
			diags.AddAttributeError(path.Root(arg), "Invalid "+arg, fmt.Sprintf("%s is not a valid regular expression: %v. Use Go's RE2 syntax, for example \"^Sales\".", arg, err))
			return nil
		}
	}
	res, err := s.Scan(ctx)
	if err != nil {
		scanFailed(err, diags)
		return nil
	}
	spaces := map[string]bool{}
	for _, n := range f.WorkspaceNames {
		spaces[n.ValueString()] = true
	}
	found := res.Reports(func(w *powerbi.Workspace, r *powerbi.Report) bool {
		return (len(spaces) == 0 || spaces[w.Name]) && (re == nil || re.MatchString(r.Name)) &&
			(f.Endorsement.IsNull() || endorsement(*r) == f.Endorsement.ValueString())
	})
	var problems []string
	for _, r := range found {
		for _, p := range r.Lineage.Problems {
			problems = append(problems, r.Report.Name+": "+p)
		}
	}
	if len(problems) > 0 {
		diags.AddWarning("Some Power BI lineage could not be followed",
			fmt.Sprintf("%d dataset tables could not be traced to warehouse tables, so those reports may miss upstream tables:\n- %s",
				len(problems), strings.Join(first(problems, 10), "\n- ")))
	}
	return found
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

func newReportRow(f powerbi.Found) reportRow {
	w, r, l := f.Workspace, f.Report, f.Lineage
	ownerName, ownerEmail := r.Owner()
	return reportRow{ID: r.ID, Name: r.Name, WorkspaceID: w.ID, WorkspaceName: w.Name, DatasetID: r.DatasetID, URL: powerbi.ReportURL(w.ID, r),
		OwnerName: ownerName, OwnerEmail: ownerEmail, Endorsement: endorsement(r), ModifiedAt: r.ModifiedDateTime, Tables: l.Tables, Queries: l.NativeQueries}
}

// tfOptString is a string attribute that is null when empty.
func tfOptString(s string) tftypes.Value {
	if s == "" {
		return tftypes.NewValue(tftypes.String, nil)
	}
	return tfString(s)
}

// reportsValue is the `reports` attribute, built directly.
func reportsValue(t tftypes.List, rows []reportRow) tftypes.Value {
	rt := t.ElementType.(tftypes.Object)
	tt := rt.AttributeTypes["upstream_tables"].(tftypes.List)
	qt := rt.AttributeTypes["native_queries"].(tftypes.List)
	vals := make([]tftypes.Value, len(rows))
	for i, r := range rows {
		tables := make([]tftypes.Value, len(r.Tables))
		for j, tb := range r.Tables {
			tables[j] = tftypes.NewValue(tt.ElementType, map[string]tftypes.Value{"database": tfString(tb.Database), "schema": tfString(tb.Schema),
				"name": tfString(tb.Name), "full_name": tfString(tb.FullName()), "connection_type": tfString(mquery.Platform(tb.Connector))})
		}
		queries := make([]tftypes.Value, len(r.Queries))
		for j, q := range r.Queries {
			queries[j] = tftypes.NewValue(qt.ElementType, map[string]tftypes.Value{"query": tfString(q.Query), "connection_type": tfString(mquery.Platform(q.Connector))})
		}
		vals[i] = tftypes.NewValue(rt, map[string]tftypes.Value{
			"id": tfString(r.ID), "name": tfString(r.Name), "workspace_id": tfString(r.WorkspaceID), "workspace_name": tfString(r.WorkspaceName),
			"dataset_id": tfOptString(r.DatasetID), "url": tfString(r.URL), "owner_name": tfOptString(r.OwnerName),
			"owner_email": tfOptString(r.OwnerEmail), "endorsement": tfOptString(r.Endorsement), "modified_at": tfOptString(r.ModifiedAt),
			"upstream_tables": tftypes.NewValue(tt, tables), "native_queries": tftypes.NewValue(qt, queries),
		})
	}
	return tftypes.NewValue(t, vals)
}

// packReports writes the `reports` attribute as msgpack, attributes in sorted
// order, as reportsValue's encoding has them (a test holds them equal).
func packReports(enc *msgpack.Encoder, rows []reportRow) error {
	p := &packer{enc: enc}
	p.array(len(rows))
	for _, r := range rows {
		p.object(12)
		p.optFields("dataset_id", r.DatasetID, "endorsement", r.Endorsement)
		p.fields("id", r.ID)
		p.optFields("modified_at", r.ModifiedAt)
		p.fields("name", r.Name)
		p.str("native_queries")
		p.array(len(r.Queries))
		for _, q := range r.Queries {
			p.object(2)
			p.fields("connection_type", mquery.Platform(q.Connector), "query", q.Query)
		}
		p.optFields("owner_email", r.OwnerEmail, "owner_name", r.OwnerName)
		p.str("upstream_tables")
		p.array(len(r.Tables))
		for _, tb := range r.Tables {
			p.object(5)
			p.fields("connection_type", mquery.Platform(tb.Connector), "database", tb.Database, "full_name", tb.FullName(), "name", tb.Name, "schema", tb.Schema)
		}
		p.fields("url", r.URL, "workspace_id", r.WorkspaceID, "workspace_name", r.WorkspaceName)
	}
	return p.err
}
