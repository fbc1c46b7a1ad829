package provider

import (
	"bytes"
	"context"
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/exposures"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi/mquery"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
)

// The reference: the workbooks as the framework's reflection would set them.
type workbookModel struct {
	ID             types.String     `tfsdk:"id"`
	Name           types.String     `tfsdk:"name"`
	ProjectID      types.String     `tfsdk:"project_id"`
	ProjectName    types.String     `tfsdk:"project_name"`
	ProjectPath    types.String     `tfsdk:"project_path"`
	OwnerName      types.String     `tfsdk:"owner_name"`
	OwnerEmail     types.String     `tfsdk:"owner_email"`
	URL            types.String     `tfsdk:"url"`
	UpdatedAt      types.String     `tfsdk:"updated_at"`
	Tags           []types.String   `tfsdk:"tags"`
	UpstreamTables []tableModel     `tfsdk:"upstream_tables"`
	CustomSQL      []customSQLModel `tfsdk:"custom_sql"`
	Extracts       []extractModel   `tfsdk:"extracts"`
	// nil slices reflect as null: columns not read
	UpstreamColumns   []types.String    `tfsdk:"upstream_columns"`
	UnresolvedColumns []unresolvedModel `tfsdk:"unresolved_columns"`
}

type unresolvedModel struct {
	Column types.String `tfsdk:"column"`
	Reason types.String `tfsdk:"reason"`
}

type extractModel struct {
	Type types.String `tfsdk:"type"`
	ID   types.String `tfsdk:"id"`
	Name types.String `tfsdk:"name"`
}

type tableModel struct {
	Database       types.String `tfsdk:"database"`
	Schema         types.String `tfsdk:"schema"`
	Name           types.String `tfsdk:"name"`
	FullName       types.String `tfsdk:"full_name"`
	ConnectionType types.String `tfsdk:"connection_type"`
}

type customSQLModel struct {
	Query          types.String `tfsdk:"query"`
	Database       types.String `tfsdk:"database"`
	ConnectionType types.String `tfsdk:"connection_type"`
}

func toWorkbookModel(w tableau.Workbook) workbookModel {
	m := workbookModel{
		ID: types.StringValue(w.ID), Name: types.StringValue(w.Name), ProjectID: types.StringValue(w.ProjectID),
		ProjectName: types.StringValue(w.ProjectName), ProjectPath: types.StringValue(w.ProjectPath),
		OwnerName: types.StringValue(w.OwnerName), OwnerEmail: types.StringValue(w.OwnerEmail),
		URL: types.StringValue(w.URL), UpdatedAt: types.StringValue(w.UpdatedAt),
		Tags: make([]types.String, 0, len(w.Tags)), UpstreamTables: make([]tableModel, 0, len(w.UpstreamTables)),
		CustomSQL: make([]customSQLModel, 0, len(w.CustomSQL)), Extracts: make([]extractModel, 0, len(w.Extracts)),
	}
	for _, x := range w.Extracts {
		m.Extracts = append(m.Extracts, extractModel{Type: types.StringValue(x.Type), ID: types.StringValue(x.ID), Name: types.StringValue(x.Name)})
	}
	for _, t := range w.Tags {
		m.Tags = append(m.Tags, types.StringValue(t))
	}
	for _, t := range w.UpstreamTables {
		m.UpstreamTables = append(m.UpstreamTables, tableModel{
			Database: types.StringValue(t.Database), Schema: types.StringValue(t.Schema), Name: types.StringValue(t.Name),
			FullName: types.StringValue(t.FullName), ConnectionType: types.StringValue(t.ConnectionType),
		})
	}
	for _, c := range w.CustomSQL {
		m.CustomSQL = append(m.CustomSQL, customSQLModel{Query: types.StringValue(c.Query), Database: types.StringValue(c.Database), ConnectionType: types.StringValue(c.ConnectionType)})
	}
	if w.Columns != nil {
		m.UpstreamColumns, m.UnresolvedColumns = []types.String{}, []unresolvedModel{}
		for _, c := range w.Columns { // sorted and distinct, as ListColumns gives them
			m.UpstreamColumns = append(m.UpstreamColumns, types.StringValue(columnName(c.Table.Database, c.Table.Schema, c.Table.Name, c.Name)))
		}
		for _, u := range w.UnresolvedColumns {
			m.UnresolvedColumns = append(m.UnresolvedColumns, unresolvedModel{Column: types.StringValue(u.Column), Reason: types.StringValue(u.Reason)})
		}
	}
	return m
}

type reflectedWorkbooksModel struct {
	workbookFilterModel
	IncludeColumns types.Bool      `tfsdk:"include_columns"`
	Workbooks      []workbookModel `tfsdk:"workbooks"`
}

// Building the values directly gives exactly what the framework's reflection
// gives: the schema and the values are unchanged, only cheaper.
func TestWorkbooksValueEqualsReflection(t *testing.T) {
	ctx := context.Background()
	var sr datasource.SchemaResponse
	(&tableauWorkbooksDataSource{}).Schema(ctx, datasource.SchemaRequest{}, &sr)
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 40, TablesPerWorkbook: 4, VaryTables: true})
	var wbs []tableau.Workbook
	for i, w := range f.Workbooks {
		wb := tableau.Workbook{ID: w.ID, Name: w.Name, ProjectID: w.ProjectID, ProjectName: "P", ProjectPath: "P/Q", OwnerName: "Ada", URL: "u", UpdatedAt: w.UpdatedAt, Tags: w.Tags}
		for _, tb := range w.UpstreamTables {
			wb.UpstreamTables = append(wb.UpstreamTables, tableau.Table{Database: tb.Database, Schema: tb.Schema, Name: tb.Name, FullName: "[" + tb.Name + "]", ConnectionType: tb.ConnectionType})
		}
		if i%3 == 0 {
			wb.CustomSQL = []tableau.CustomSQL{{Query: "select 1", Database: "DB", ConnectionType: "snowflake"}}
		}
		if i%4 == 1 {
			wb.Extracts = []tableau.Extract{{Type: tableau.ExtractDatasource, ID: "ds", Name: "Orders"}, {Type: tableau.ExtractWorkbook, ID: wb.ID, Name: wb.Name}}
		}
		if wb.Tags == nil {
			wb.Tags = []string{}
		}
		if i%5 == 2 {
			wb.Columns = []tableau.UsedColumn{{Table: &tableau.Table{Database: "db", Schema: "s", Name: "t"}, Name: "a"}}
			wb.UnresolvedColumns = []tableau.UnresolvedColumn{{Column: "x", Reason: "why"}}
		}
		wbs = append(wbs, wb)
	}

	reflected := tfsdk.State{Schema: sr.Schema}
	model := reflectedWorkbooksModel{workbookFilterModel: workbookFilterModel{
		ProjectNames: types.SetNull(types.StringType), IncludeSubprojects: types.BoolNull(), Tags: types.SetNull(types.StringType), NameRegex: types.StringNull()},
		IncludeColumns: types.BoolNull()}
	for _, w := range wbs {
		model.Workbooks = append(model.Workbooks, toWorkbookModel(w))
	}
	if diags := reflected.Set(ctx, &model); diags.HasError() {
		t.Fatal(diags)
	}

	direct := packEquals(t, &tableauWorkbooksDataSource{}, nil, map[string]resultAttr{"workbooks": workbooksResult(wbs)})
	if !direct.Equal(reflected.Raw) {
		diff, _ := direct.Diff(reflected.Raw)
		t.Fatalf("direct and reflected values differ: %v", diff[:min(len(diff), 3)])
	}
}

// The fast msgpack encoding is byte for byte Terraform's, for the values the
// direct reads produce and for the ones it hands to tftypes (numbers, maps,
// unknowns).
func TestConfigPackedAsTerraformEncodesIt(t *testing.T) {
	ctx := context.Background()
	var sr datasource.SchemaResponse
	(&tableauWorkbooksDataSource{}).Schema(ctx, datasource.SchemaRequest{}, &sr)
	typ := sr.Schema.Type().TerraformType(ctx).(tftypes.Object)
	wbs := []tableau.Workbook{
		{ID: "a", Name: "Ünïcode 📊", Tags: []string{"kpi", ""}, UpstreamTables: []tableau.Table{{Database: "DB", Name: "T"}}},
		{ID: "b", Tags: []string{}, CustomSQL: []tableau.CustomSQL{{Query: string(make([]byte, 70000))}}},
	}
	decoded := packEquals(t, &tableauWorkbooksDataSource{}, nil, map[string]resultAttr{"workbooks": workbooksResult(wbs)})
	var attrs map[string]tftypes.Value
	if err := decoded.As(&attrs); err != nil {
		t.Fatal(err)
	}
	full := nullObject(typ, map[string]tftypes.Value{
		"workbooks":           attrs["workbooks"],
		"include_subprojects": tftypes.NewValue(tftypes.Bool, true),
		"project_names":       tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, []tftypes.Value{tfString("x"), tfString("y")}),
		"name_regex":          tftypes.NewValue(tftypes.String, tftypes.UnknownValue),
	})
	other := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"n": tftypes.Number, "m": tftypes.Map{ElementType: tftypes.String}}}
	mixed := tftypes.NewValue(other, map[string]tftypes.Value{
		"n": tftypes.NewValue(tftypes.Number, 1.5),
		"m": tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, map[string]tftypes.Value{"k": tfString("v")}),
	})
	for _, c := range []struct {
		typ tftypes.Object
		val tftypes.Value
	}{{typ, full}, {other, mixed}} {
		want, err := tfprotov6.NewDynamicValue(c.typ, c.val)
		if err != nil {
			t.Fatal(err)
		}
		got, err := packState(c.typ, c.val, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.MsgPack, want.MsgPack) {
			t.Fatalf("encodings differ (%d bytes against Terraform's %d)", len(got.MsgPack), len(want.MsgPack))
		}
	}
}

// packEquals writes a data source's state straight to msgpack, decodes it
// with the schema's type, and checks that Terraform's own encoder writes the
// decoded value byte for byte the same. It returns the decoded state.
func packEquals(t *testing.T, ds datasource.DataSource, config map[string]tftypes.Value, results map[string]resultAttr) tftypes.Value {
	t.Helper()
	ctx := context.Background()
	var sr datasource.SchemaResponse
	ds.Schema(ctx, datasource.SchemaRequest{}, &sr)
	typ := sr.Schema.Type().TerraformType(ctx).(tftypes.Object)
	got, err := packState(typ, nullObject(typ, config), results)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := got.Unmarshal(typ)
	if err != nil {
		t.Fatalf("the direct encoding does not decode as the schema's type: %v", err)
	}
	want, err := tfprotov6.NewDynamicValue(typ, decoded)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.MsgPack, want.MsgPack) {
		t.Fatalf("the direct encoding differs from Terraform's (%d bytes against %d)", len(got.MsgPack), len(want.MsgPack))
	}
	return decoded
}

// at is the value at a path of attribute names and list indexes.
func at(t *testing.T, v tftypes.Value, steps ...any) tftypes.Value {
	t.Helper()
	p := tftypes.NewAttributePath()
	for _, s := range steps {
		if i, ok := s.(int); ok {
			p = p.WithElementKeyInt(i)
		} else {
			p = p.WithAttributeName(s.(string))
		}
	}
	got, _, err := tftypes.WalkAttributePath(v, p)
	if err != nil {
		t.Fatalf("%v: %v", p, err)
	}
	return got.(tftypes.Value)
}

// strOf is a string value, or "<null>".
func strOf(v tftypes.Value) string {
	if v.IsNull() {
		return "<null>"
	}
	var s string
	_ = v.As(&s)
	return s
}

func TestWorkbooksPackedAsTerraformEncodesThem(t *testing.T) {
	wbs := []tableau.Workbook{
		{ID: "a", Name: "Ünïcode 📊", ProjectPath: "P/Q", Tags: []string{"kpi", ""}, URL: "u", UpstreamTables: []tableau.Table{{Database: "DB", Schema: "S", Name: "T", FullName: "[S].[T]", ConnectionType: "snowflake"}},
			Extracts: []tableau.Extract{{Type: tableau.ExtractDatasource, ID: "ds", Name: "Orders"}}},
		{ID: "b", Tags: []string{}, UpstreamTables: []tableau.Table{}, CustomSQL: []tableau.CustomSQL{{Query: string(make([]byte, 70000)), Database: "D", ConnectionType: "c"}}},
	}
	packEquals(t, &tableauWorkbooksDataSource{}, map[string]tftypes.Value{
		"project_names":       tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, []tftypes.Value{tfString("Finance")}),
		"include_subprojects": tftypes.NewValue(tftypes.Bool, true),
	}, map[string]resultAttr{"workbooks": workbooksResult(wbs)})
}

func TestExposuresPackedAsTerraformEncodesThem(t *testing.T) {
	list := []exposures.Exposure{
		{Name: "a", Label: "A", Type: "dashboard", URL: "u", Maturity: "high", OwnerName: "Zoë", OwnerEmail: "z@x", Description: "d\nmore", DependsOn: []string{"ref('x')"}, Tool: tableau.Tool, DashboardID: "w"},
		{Name: "b", Type: "dashboard", Tool: tableau.Tool, DependsOn: []string{}},
		{Name: "c", Type: "dashboard", Tool: powerbi.Tool, DependsOn: []string{"ref('y')"}, DashboardID: "r", Folder: "Finance"},
	}
	unmatched := []exposures.Unmatched{{Tool: tableau.Tool, DashboardID: "w", Table: "db.s.t"}, {Tool: powerbi.Tool, DashboardID: "r", Table: "db.s.u"}}
	v := packEquals(t, &exposuresDataSource{}, map[string]tftypes.Value{
		"manifest_path": tfString("target/manifest.json"),
		"maturity":      tfString("high"),
	}, map[string]resultAttr{
		"yaml":             stringResult("version: 2\n"),
		"exposures":        exposuresResult(list),
		"unmatched_tables": unmatchedResult(unmatched),
	})
	got := []string{strOf(at(t, v, "exposures", 0, "workbook_id")), strOf(at(t, v, "exposures", 0, "powerbi_report_id")),
		strOf(at(t, v, "exposures", 2, "powerbi_report_id")), strOf(at(t, v, "exposures", 2, "powerbi_workspace")), strOf(at(t, v, "exposures", 2, "tool")),
		strOf(at(t, v, "unmatched_tables", 1, "powerbi_report_id")), strOf(at(t, v, "unmatched_tables", 1, "workbook_id")), strOf(at(t, v, "yaml"))}
	if want := []string{"w", "<null>", "r", "Finance", "powerbi", "r", "<null>", "version: 2\n"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %q, want %q", got, want)
	}
}

func TestPowerBIReportsPackedAsTerraformEncodesThem(t *testing.T) {
	rows := []reportRow{
		{ID: "r1", Name: "Revenue ✓", WorkspaceID: "w", WorkspaceName: "Finance", DatasetID: "d", URL: "u", OwnerName: "Zoë", OwnerEmail: "z@x",
			Endorsement: "Certified", ModifiedAt: "2026-01-01T00:00:00Z",
			Tables:  []mquery.Table{{Database: "DB", Schema: "S", Name: "T", Connector: "Snowflake.Databases"}},
			Queries: []mquery.NativeQuery{{Query: "select 1\nfrom x", Connector: "Sql.Database"}}},
		{ID: "r2", Name: "", WorkspaceID: "w", WorkspaceName: "Finance", URL: "u2"}, // optional fields null, no lineage
	}
	v := packEquals(t, &powerbiReportsDataSource{}, map[string]tftypes.Value{
		"name_regex": tfString("^R"),
	}, map[string]resultAttr{"reports": reportsResult(rows)})
	got := []string{strOf(at(t, v, "reports", 0, "upstream_tables", 0, "full_name")), strOf(at(t, v, "reports", 0, "native_queries", 0, "connection_type")),
		strOf(at(t, v, "reports", 1, "dataset_id")), strOf(at(t, v, "reports", 1, "name")), strOf(at(t, v, "name_regex"))}
	if want := []string{"DB.S.T", "sqlserver", "<null>", "", "^R"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %q, want %q", got, want)
	}
}
