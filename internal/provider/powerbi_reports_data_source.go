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

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi/mquery"
)

// NewPowerBIReportsDataSource is dbtexposures_powerbi_reports.
func NewPowerBIReportsDataSource() datasource.DataSource {
	return &powerbiReportsDataSource{powerbiData("_powerbi_reports")}
}

type powerbiReportsDataSource struct{ toolDataSource[*powerbiSource] }

// reportRow is one report of the result; "" is null for the optional fields.
type reportRow struct {
	ID, Name, WorkspaceID, WorkspaceName, DatasetID, URL string
	OwnerName, OwnerEmail, Endorsement, ModifiedAt       string
	Tables                                               []mquery.Table
	Queries                                              []mquery.NativeQuery
	// The dataset's columns, with include_columns; Columns is nil otherwise.
	Columns    []bi.Column
	Unresolved []bi.UnresolvedColumn
	Derived    []string // calculated columns and measures, Table[Column]
}

type powerbiReportsModel struct {
	WorkspaceNames []types.String `tfsdk:"workspace_names"`
	Endorsement    types.String   `tfsdk:"endorsement"`
	NameRegex      types.String   `tfsdk:"name_regex"`
	IncludeColumns types.Bool     `tfsdk:"include_columns"`
	Reports        rawListValue   `tfsdk:"reports"` // set from reportsValue
}

func (d *powerbiReportsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.Attribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	report := schema.NestedAttributeObject{Attributes: powerbiColumnAttributes(map[string]schema.Attribute{
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
	})}
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
			"name_regex":      schema.StringAttribute{Optional: true, MarkdownDescription: "Only reports whose name matches this regular expression (Go RE2 syntax)."},
			"include_columns": includeColumnsAttribute("each report's dataset"),
			"reports": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The reports, sorted by workspace name, then report name.",
				NestedObject:        report,
				CustomType:          rawList(report),
			},
		},
	}
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
	list := make([]reportRow, len(found))
	for i, f := range found {
		list[i] = newReportRow(f, cfg.IncludeColumns.ValueBool())
	}
	return map[string]resultAttr{"reports": reportsResult(list)}
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
		s.scanFailed(err, diags)
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

func newReportRow(f powerbi.Found, columns bool) reportRow {
	w, r, l := f.Workspace, f.Report, f.Lineage
	ownerName, ownerEmail := r.Owner()
	row := reportRow{ID: r.ID, Name: r.Name, WorkspaceID: w.ID, WorkspaceName: w.Name, DatasetID: r.DatasetID, URL: powerbi.ReportURL(w.ID, r),
		OwnerName: ownerName, OwnerEmail: ownerEmail, Endorsement: endorsement(r), ModifiedAt: r.ModifiedDateTime, Tables: l.Tables, Queries: l.NativeQueries}
	if columns {
		d := f.Dashboard()
		row.Columns, row.Unresolved = d.Columns, d.UnresolvedColumns
		row.Derived = []string{}
		for _, c := range l.Columns {
			if c.Derived && len(c.Sources) == 0 {
				row.Derived = append(row.Derived, c.Table+"["+c.Column+"]")
			}
		}
	}
	return row
}

// powerbiColumnAttributes adds the column attributes to a report's.
func powerbiColumnAttributes(attrs map[string]schema.Attribute) map[string]schema.Attribute {
	for name, a := range columnAttributes("its dataset's columns read (the Scanner API does not say which visual shows which " +
		"field, so a report uses all its dataset's columns)") {
		attrs[name] = a
	}
	attrs["derived_columns"] = schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "The " +
		"dataset's calculated columns and measures (DAX) and the columns computed in Power Query, as `Table[Column]`: listed, " +
		"not traced to the warehouse; null without `include_columns`."}
	return attrs
}

// reportsResult writes the `reports` attribute.
func reportsResult(list []reportRow) resultAttr {
	return func(p *packer, t tftypes.Type) {
		p.rows(t, rows{len(list), func(i int, attr string) cell { return list[i].attr(attr) }})
	}
}

// attr is the report's value of attr, in the schema's words; optional ones
// are null when Power BI says nothing.
func (r *reportRow) attr(attr string) cell {
	switch attr {
	case "id", "name", "workspace_id", "workspace_name", "url":
		return pick(attr, "id", r.ID, "name", r.Name, "workspace_id", r.WorkspaceID, "workspace_name", r.WorkspaceName, "url", r.URL)
	case "dataset_id", "owner_name", "owner_email", "endorsement", "modified_at":
		return opt(pick(attr, "dataset_id", r.DatasetID, "owner_name", r.OwnerName, "owner_email", r.OwnerEmail,
			"endorsement", r.Endorsement, "modified_at", r.ModifiedAt).s)
	case "upstream_tables":
		return nested(rows{len(r.Tables), func(i int, a string) cell {
			t := r.Tables[i]
			return pick(a, "database", t.Database, "schema", t.Schema, "name", t.Name, "full_name", t.FullName(), "connection_type", mquery.Platform(t.Connector))
		}})
	case "native_queries":
		return nested(rows{len(r.Queries), func(i int, a string) cell {
			q := r.Queries[i]
			return pick(a, "query", q.Query, "connection_type", mquery.Platform(q.Connector))
		}})
	case "derived_columns":
		if r.Columns == nil {
			return null()
		}
		return strs(r.Derived)
	}
	if c, ok := columnCell(attr, r.Columns != nil, func() []string { return columnNames(r.Columns, biColumn) }, r.Unresolved); ok {
		return c
	}
	return unknownAttr(attr)
}
