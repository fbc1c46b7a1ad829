package emulator

import "fmt"

// GenerateOptions size a generated site.
type GenerateOptions struct {
	Workbooks         int // how many workbooks
	TablesPerWorkbook int // upstream tables each (the special workbooks aside)
	// VaryTables gives workbook i 1 + i mod TablesPerWorkbook tables instead,
	// so a site has a mix, as real ones do.
	VaryTables    bool
	ExtraProjects int // more projects, nested up to five deep, that hold workbooks too
	// Columns gives each workbook one sheet using 20 to 40 warehouse columns
	// of its tables (workbook i: 20 + i mod 21), two in three of them through
	// a field as it is and the rest through calculated fields.
	Columns bool
}

func luid(kind, i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", kind, i) }

// Generate builds a deterministic site for tests and benchmarks: projects nested
// three levels deep, an empty project, unicode names, mixed-case table names,
// custom SQL, a workbook without tables and one whose table is hidden (null).
func Generate(o GenerateOptions) *Fixture {
	f := &Fixture{}
	f.Server.ProductVersion, f.Server.RESTAPIVersion = "2024.2.0", "3.23"
	f.Site.ID, f.Site.ContentURL, f.Site.Name = luid(1, 1), "acme", "Acme Analytics"
	f.PersonalAccessToken.Name, f.PersonalAccessToken.Secret = "dbt-discovery", "emulator-pat-secret"
	f.Users = []User{
		{ID: luid(2, 1), Name: "Ada Lovelace", Username: "ada", Email: "ada@example.com"},
		{ID: luid(2, 2), Name: "Zoë Ångström", Username: "zoe", Email: "zoe@example.com"},
		{ID: luid(2, 3), Name: "田中 花子", Username: "hanako", Email: "hanako@example.com"},
	}
	f.Projects = []FixtureProject{
		{ID: luid(3, 1), Name: "Finance", Description: "Finance reporting"},
		{ID: luid(3, 2), Name: "Quarterly", ParentID: luid(3, 1)},
		{ID: luid(3, 3), Name: "Board Packs", ParentID: luid(3, 2)},
		{ID: luid(3, 4), Name: "Marketing"},
		{ID: luid(3, 5), Name: "Ventes Été", Description: "unicode"},
		{ID: luid(3, 6), Name: "Empty Project"},
		{ID: luid(3, 7), Name: "EMEA", ParentID: luid(3, 4)},
	}
	homes := []string{luid(3, 1), luid(3, 2), luid(3, 3), luid(3, 4), luid(3, 5), luid(3, 7)}
	for i := 0; i < o.ExtraProjects; i++ {
		p := FixtureProject{ID: luid(7, i), Name: fmt.Sprintf("Team %04d", i)}
		if i%5 != 0 { // four in five sit under the previous one: chains five deep
			p.ParentID = luid(7, i-1)
		}
		f.Projects = append(f.Projects, p)
		homes = append(homes, p.ID)
	}
	for i := 0; i < o.Workbooks; i++ {
		w := generatedWorkbook(f, o, homes, i)
		if o.Columns {
			generateColumns(f, &w, i)
		}
		f.Workbooks = append(f.Workbooks, w)
	}
	return f
}

// generateColumns gives workbook i a sheet that uses 20 + i mod 21 columns
// of its visible tables: column fields, and calculated fields over pairs of
// them, which the sheet shows instead.
func generateColumns(f *Fixture, w *FixtureWorkbook, i int) {
	var tables []string
	for _, t := range w.UpstreamTables {
		if !t.Hidden {
			tables = append(tables, t.ID)
		}
	}
	if len(tables) == 0 {
		return
	}
	sheet := FixtureSheet{ID: luid(10, i), Name: "Overview"}
	n := 20 + i%21
	for c := 0; c < n; c++ {
		id := luid(11, i*64+c)
		f.Fields = append(f.Fields, FixtureField{ID: id, Name: fmt.Sprintf("Column %d", c), Type: "ColumnField", DatasourceID: w.ID,
			Columns: []FixtureColumn{{TableID: tables[c%len(tables)], Name: fmt.Sprintf("COL_%02d", c)}}})
		if c%3 != 2 {
			sheet.Fields = append(sheet.Fields, id)
			continue
		}
		calc := luid(12, i*64+c) // a calculation over this column and the one before
		f.Fields = append(f.Fields, FixtureField{ID: calc, Name: fmt.Sprintf("Ratio %d", c), Type: "CalculatedField", DatasourceID: w.ID,
			Formula: fmt.Sprintf("[Column %d] / [Column %d]", c, c-1), UpstreamFields: []string{id, luid(11, i*64+c-1)}})
		sheet.Fields = append(sheet.Fields, calc)
	}
	w.Sheets = []FixtureSheet{sheet}
}

var generatedTags = [][]string{{"finance"}, {"kpi", "finance"}, {}, {"marketing"}, {"draft"}}

// generatedWorkbook is the fixture's workbook i: its tables, and the odd
// cases some workbooks stand for (none, custom SQL, a hidden table).
func generatedWorkbook(f *Fixture, o GenerateOptions, homes []string, i int) FixtureWorkbook {
	name := fmt.Sprintf("Workbook %05d", i)
	if i%7 == 3 {
		name = fmt.Sprintf("Umsatz Übersicht %05d", i)
	}
	w := FixtureWorkbook{
		ID: luid(4, i), Name: name, ProjectID: homes[i%len(homes)], OwnerID: f.Users[i%len(f.Users)].ID,
		Tags: generatedTags[i%len(generatedTags)], CreatedAt: "2024-03-01T10:00:00Z", UpdatedAt: fmt.Sprintf("2024-06-%02dT12:00:00Z", 1+i%28),
		Description: "Generated workbook",
	}
	tables := o.TablesPerWorkbook
	if o.VaryTables && tables > 0 {
		tables = 1 + i%tables
	}
	for t := 0; t < tables; t++ {
		tn := fmt.Sprintf("Fct_Orders_%d", (i+t)%50)
		if t%2 == 1 {
			tn = fmt.Sprintf("DIM_CUSTOMERS_%d", (i+t)%50)
		}
		// One table is one DatabaseTable in Tableau's catalog, whichever
		// workbooks read it: its ID comes from its name.
		id := luid(5, (i+t)%50)
		if t%2 == 1 {
			id = luid(5, 100+(i+t)%50)
		}
		w.UpstreamTables = append(w.UpstreamTables, FixtureTable{
			ID: id, Name: tn, Schema: "Analytics", Database: "WAREHOUSE", ConnectionType: "snowflake",
		})
	}
	const recent = "with recent as (select * from ANALYTICS.ORDERS) select * from recent"
	switch i {
	case 0: // no tables at all
		w.UpstreamTables = nil
	case 1, 2: // custom SQL, one query shared by workbooks 1 and 2
		w.CustomSQL = []FixtureSQL{{ID: luid(6, 1), Query: recent, Database: "WAREHOUSE", ConnectionType: "snowflake"}}
	case 4: // a table the user may not see comes back as null
		if len(w.UpstreamTables) > 0 {
			w.UpstreamTables[0].Hidden = true
		}
	}
	return w
}
