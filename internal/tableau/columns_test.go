package tableau_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// columnsSite is a small site whose sheets use columns every way the
// Metadata API can say it: as they are, through calculated fields, through
// a published data source's fields, through custom SQL, and from tables the
// workbook's upstreamTables leaves out.
func columnsSite() *emulator.Fixture {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 3, TablesPerWorkbook: 1})
	wb0, wb1, wb2 := &f.Workbooks[0], &f.Workbooks[1], &f.Workbooks[2]
	f.Datasources = []emulator.FixtureDatasource{{ID: "ds-sales", Name: "Sales", ProjectID: f.Projects[0].ID}}
	f.Tables = []emulator.FixtureTable{
		{ID: "t-orders", Name: "ORDERS", Schema: "MARTS", Database: "ANALYTICS", ConnectionType: "snowflake"},
		{ID: "t-customers", Name: "CUSTOMERS", Schema: "MARTS", Database: "ANALYTICS", ConnectionType: "snowflake"},
	}
	wb1.CustomSQL = []emulator.FixtureSQL{{ID: "sql-1", Database: "ANALYTICS", ConnectionType: "snowflake",
		Query: "select o.amount as total, region from marts.orders o join marts.customers c on c.id = o.customer_id"}}
	f.Fields = []emulator.FixtureField{
		{ID: "f-amount", Name: "Amount", Type: "ColumnField", DatasourceID: wb0.ID, Columns: []emulator.FixtureColumn{{TableID: "t-orders", Name: "AMOUNT"}}},
		{ID: "f-discount", Name: "Discount", Type: "ColumnField", DatasourceID: wb0.ID, Columns: []emulator.FixtureColumn{{TableID: "t-orders", Name: "DISCOUNT"}}},
		{ID: "f-net", Name: "Net", Type: "CalculatedField", DatasourceID: wb0.ID, Formula: "[Amount] - [Discount]", UpstreamFields: []string{"f-amount", "f-discount"}},
		{ID: "f-region-pub", Name: "Region", Type: "ColumnField", DatasourceID: "ds-sales", Columns: []emulator.FixtureColumn{{TableID: "t-customers", Name: "REGION"}}},
		{ID: "f-region", Name: "Region", Type: "DatasourceField", DatasourceID: wb0.ID, RemoteField: "f-region-pub"},
		{ID: "f-total", Name: "total", Type: "ColumnField", DatasourceID: wb1.ID, Columns: []emulator.FixtureColumn{{TableID: "sql-1", Name: "total"}}},
		{ID: "f-sql-region", Name: "region", Type: "ColumnField", DatasourceID: wb1.ID, Columns: []emulator.FixtureColumn{{TableID: "sql-1", Name: "region"}}},
	}
	wb0.UpstreamTables = nil // Tableau left it empty; the columns name the tables
	wb0.Sheets = []emulator.FixtureSheet{{ID: "s-1", Name: "Revenue", Fields: []string{"f-amount", "f-net", "f-region"}}}
	wb1.Sheets = []emulator.FixtureSheet{{ID: "s-2", Name: "Totals", Fields: []string{"f-total", "f-sql-region"}}}
	wb2.Sheets = []emulator.FixtureSheet{{ID: "s-3", Name: "Empty"}}
	return f
}

// describe is a workbook's columns in one line each: table.column, with
// " (derived)"; then "unresolved column: reason".
func describe(wc *tableau.WorkbookColumns) []string {
	var out []string
	for _, c := range wc.Columns {
		line := strings.ToLower(c.Table.Database + "." + c.Table.Schema + "." + c.Table.Name + "." + c.Name)
		if c.Derived {
			line += " (derived)"
		}
		out = append(out, line)
	}
	for _, u := range wc.Unresolved {
		out = append(out, "unresolved "+u.Column+": "+u.Reason)
	}
	return out
}

// withoutSheetColumns stands for Tableau leaving every sheet's
// upstreamColumns empty: the client follows the sheets' fields instead.
func withoutSheetColumns(f *emulator.Fixture) *emulator.Fixture {
	for i := range f.Workbooks {
		for j := range f.Workbooks[i].Sheets {
			f.Workbooks[i].Sheets[j].ColumnsMissing = true
		}
	}
	return f
}

// The columns are the same whether Tableau's lineage gives them for the
// sheet or the client follows the sheet's fields; only the field walk knows
// which columns are used through calculations alone.
func TestListColumnsFollowsFieldsToWarehouseColumns(t *testing.T) {
	for _, walk := range []bool{false, true} {
		t.Run(fmt.Sprintf("field walk %v", walk), func(t *testing.T) {
			f := columnsSite()
			derived := ""
			if walk {
				f, derived = withoutSheetColumns(f), " (derived)"
			}
			_, srv := tableautest.NewServer(t, f)
			cols, err := client(t, srv, f).ListColumns(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			checkColumnsSite(t, srv, f, cols, derived)
		})
	}
}

func checkColumnsSite(t *testing.T, srv *httptest.Server, f *emulator.Fixture, cols map[string]*tableau.WorkbookColumns, derived string) {
	t.Helper()
	want := map[string]string{
		// Amount as it is; Discount only through the calculated Net; Region
		// through the published data source's field.
		f.Workbooks[0].ID: "analytics.marts.customers.region|analytics.marts.orders.amount|analytics.marts.orders.discount" + derived,
		// Custom SQL: the alias followed back; the bare name over two tables is not guessed.
		f.Workbooks[1].ID: "analytics.marts.orders.amount|unresolved region: custom SQL \"region\": `region` is not qualified and the query reads several relations (`o`, `c`); qualify it with its table to resolve it",
	}
	site, err := client(t, srv, f).Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tableau.AttachColumns(site.Workbooks, cols)
	for _, w := range site.Workbooks {
		if w.ID == f.Workbooks[0].ID && (len(w.UpstreamTables) != 2 || w.UpstreamTables[0].Name != "CUSTOMERS" || w.UpstreamTables[1].Name != "ORDERS") {
			t.Errorf("a workbook whose upstreamTables is empty gets its columns' tables; got %+v", w.UpstreamTables)
		}
		if w.ID == f.Workbooks[1].ID && (len(w.UpstreamTables) != 1 || len(w.Columns) != 1) {
			t.Errorf("a workbook with upstream tables keeps them: %+v, columns %+v", w.UpstreamTables, w.Columns)
		}
		if w.ID == f.Workbooks[2].ID && (w.Columns == nil || len(w.Columns) != 0) {
			t.Errorf("a workbook whose sheet uses nothing has no columns, known: %+v", w.Columns)
		}
	}
	for wb, w := range want {
		if cols[wb] == nil {
			t.Fatalf("no columns for workbook %s", wb)
		}
		if got := strings.Join(describe(cols[wb]), "|"); got != w {
			t.Errorf("workbook %s:\n got %s\nwant %s", wb, got, w)
		}
	}
}

// Tableau caps fieldsConnection at 1,000 a page and says so only through
// pageInfo: 1,200 fields of one sheet all come back.
func TestListColumnsPagesFieldsPastTheCap(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 1, TablesPerWorkbook: 1})
	f.Tables = []emulator.FixtureTable{{ID: "t-wide", Name: "WIDE", Schema: "S", Database: "D", ConnectionType: "snowflake"}}
	var ids []string
	for i := 0; i < 1200; i++ {
		id := fmt.Sprintf("f-%04d", i)
		ids = append(ids, id)
		f.Fields = append(f.Fields, emulator.FixtureField{ID: id, Name: fmt.Sprintf("C%d", i), Type: "ColumnField", DatasourceID: f.Workbooks[0].ID,
			Columns: []emulator.FixtureColumn{{TableID: "t-wide", Name: fmt.Sprintf("C%d", i)}}})
	}
	f.Workbooks[0].Sheets = []emulator.FixtureSheet{{ID: "s-wide", Name: "Wide", Fields: ids, ColumnsMissing: true}}
	emu, srv := tableautest.NewServer(t, f)
	c := client(t, srv, f, func(c *tableau.Config) { c.PageSize = 5000 })
	before := emu.Stats().GraphQL
	cols, err := c.ListColumns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(cols[f.Workbooks[0].ID].Columns); n != 1200 {
		t.Fatalf("%d columns, want 1200", n)
	}
	// One sheets page, one of the sheet's fields, the 1,200 field IDs in two
	// batches of at most 1,000, and the one table.
	if got := emu.Stats().GraphQL - before; got != 5 {
		t.Fatalf("%d Metadata API requests, want 5", got)
	}
}

// The column queries share the workbooks' guards: a node limit halves the
// page and asks again, RATE_EXCEEDED is waited out, and the answer is the same.
func TestListColumnsHalvesOnNodeLimitAndWaitsOutThrottling(t *testing.T) {
	f := withoutSheetColumns(columnsSite())
	emu, srv := tableautest.NewServer(t, f)
	emu.NodeLimit = 12
	emu.Inject(emulator.Fault{PathContains: "/api/metadata/graphql", Times: 1, GraphQLCode: "RATE_EXCEEDED"})
	cols, err := client(t, srv, f, func(c *tableau.Config) { c.PageSize = 8 }).ListColumns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(describe(cols[f.Workbooks[0].ID]), "|")
	if got != "analytics.marts.customers.region|analytics.marts.orders.amount|analytics.marts.orders.discount (derived)" {
		t.Fatalf("under a node limit: %s", got)
	}
	if emu.Stats().GraphQL < 6 {
		t.Fatalf("%d Metadata API requests: the limit and the throttle were not met", emu.Stats().GraphQL)
	}
}

// wantColumns is how many columns the generator gives workbook i's sheet.
func wantColumns(f *emulator.Fixture) map[string]int {
	want := map[string]int{}
	for i, w := range f.Workbooks {
		if len(w.Sheets) > 0 {
			want[w.ID] = 20 + i%21
		}
	}
	return want
}

func checkCounts(t *testing.T, cols map[string]*tableau.WorkbookColumns, want map[string]int) {
	t.Helper()
	if len(cols) != len(want) {
		t.Fatalf("columns of %d workbooks, want %d", len(cols), len(want))
	}
	for id, n := range want {
		if got := len(cols[id].Columns); got != n {
			t.Fatalf("workbook %s: %d columns, want %d", id, got, n)
		}
	}
}

// Sheets are read a few pages at once, by offset: every sheet comes once,
// in one request per page.
func TestListColumnsReadsSheetPagesByOffset(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 300, TablesPerWorkbook: 4, VaryTables: true, Columns: true})
	emu, srv := tableautest.NewServer(t, f)
	cols, err := client(t, srv, f, func(c *tableau.Config) { c.PageSize = 20 }).ListColumns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, cols, wantColumns(f))
	// ⌈300 sheets / 20⌉ pages, then the tables.
	if got := emu.Stats().GraphQL; got != 15+1 {
		t.Fatalf("%d Metadata API requests, want 16", got)
	}
}

// Content that changes while sheets are read by offset could make pages
// skip a sheet: the count gives it away, and the sheets are read again with
// cursors.
func TestListColumnsRereadsWhenSheetsShift(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 300, TablesPerWorkbook: 4, VaryTables: true, Columns: true})
	emu, err := emulator.New(f)
	if err != nil {
		t.Fatal(err)
	}
	gone := f.Workbooks[7].ID
	want := wantColumns(f)
	delete(want, gone)
	var graphQL atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		emu.ServeHTTP(w, r)
		if strings.Contains(r.URL.Path, "/metadata/graphql") && graphQL.Add(1) == 1 {
			emu.DeleteWorkbook(gone) // after the first page: the offsets shift
		}
	}))
	t.Cleanup(srv.Close)
	cols, err := client(t, srv, f, func(c *tableau.Config) { c.PageSize = 20 }).ListColumns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, cols, want)
}
