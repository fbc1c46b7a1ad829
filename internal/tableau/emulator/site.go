package emulator

import (
	"fmt"
	"sort"
	"strings"
)

// site is the fixture indexed for serving.
type site struct {
	fixture     *Fixture
	projects    map[string]*FixtureProject
	users       map[string]*User
	workbooks   []*workbook // sorted by LUID
	byID        map[string]*workbook
	sqls        []*customSQL // sorted by ID
	datasources map[string]*FixtureDatasource
	fields      []*FixtureField // sorted by ID
	fieldByID   map[string]*FixtureField
	tables      map[string]object // DatabaseTable or CustomSQLTable, by ID
	sheets      []*sheet          // sorted by ID
	jobs        map[string]*FixtureJob
}

// sheet is a workbook's sheet.
type sheet struct {
	*FixtureSheet
	w *workbook
	// columns are the sheet's upstreamColumns, walked once: the fields never
	// change while the emulator serves them.
	columns []object
}

type workbook struct {
	*FixtureWorkbook
	vizportalID string
}

type customSQL struct {
	FixtureSQL
	readers []*workbook
}

func buildSite(f *Fixture) *site {
	s := &site{fixture: f, projects: map[string]*FixtureProject{}, users: map[string]*User{}, byID: map[string]*workbook{},
		datasources: map[string]*FixtureDatasource{}}
	for i := range f.Datasources {
		s.datasources[f.Datasources[i].ID] = &f.Datasources[i]
	}
	for i := range f.Projects {
		s.projects[f.Projects[i].ID] = &f.Projects[i]
	}
	for i := range f.Users {
		s.users[f.Users[i].ID] = &f.Users[i]
	}
	s.jobs = map[string]*FixtureJob{}
	for i := range f.Jobs {
		s.jobs[f.Jobs[i].ID] = &f.Jobs[i]
	}
	sqlByID := map[string]*customSQL{}
	for i := range f.Workbooks {
		w := &workbook{FixtureWorkbook: &f.Workbooks[i], vizportalID: fmt.Sprint(1000 + i)}
		s.workbooks = append(s.workbooks, w)
		s.byID[w.ID] = w
		for _, q := range w.CustomSQL {
			cs := sqlByID[q.ID]
			if cs == nil {
				cs = &customSQL{FixtureSQL: q}
				sqlByID[q.ID] = cs
				s.sqls = append(s.sqls, cs)
			}
			cs.readers = append(cs.readers, w)
		}
	}
	sort.Slice(s.workbooks, func(i, j int) bool { return s.workbooks[i].ID < s.workbooks[j].ID })
	sort.Slice(s.sqls, func(i, j int) bool { return s.sqls[i].ID < s.sqls[j].ID })
	s.indexFields(sqlByID)
	return s
}

// indexFields indexes what column lineage serves: sheets, fields, and the
// tables and queries their columns belong to.
func (s *site) indexFields(sqls map[string]*customSQL) {
	f := s.fixture
	s.fieldByID, s.tables = map[string]*FixtureField{}, map[string]object{}
	for i := range f.Fields {
		s.fields = append(s.fields, &f.Fields[i])
		s.fieldByID[f.Fields[i].ID] = &f.Fields[i]
	}
	sort.Slice(s.fields, func(i, j int) bool { return s.fields[i].ID < s.fields[j].ID })
	for i := range f.Tables {
		s.tables[f.Tables[i].ID] = tableObj{&f.Tables[i]}
	}
	for _, w := range s.workbooks {
		for i := range w.UpstreamTables {
			s.tables[w.UpstreamTables[i].ID] = tableObj{&w.UpstreamTables[i]}
		}
		for i := range w.Sheets {
			s.sheets = append(s.sheets, &sheet{FixtureSheet: &w.Sheets[i], w: w})
		}
	}
	for id, q := range sqls {
		s.tables[id] = &sqlObj{q}
	}
	sort.Slice(s.sheets, func(i, j int) bool { return s.sheets[i].ID < s.sheets[j].ID })
	for _, sh := range s.sheets {
		sh.columns = s.upstreamColumns(sh.Fields)
	}
}

func (s *site) deleteWorkbook(id string) bool {
	f := s.fixture
	for i := range f.Workbooks {
		if f.Workbooks[i].ID == id {
			nf := *f
			nf.Workbooks = append(append([]FixtureWorkbook{}, f.Workbooks[:i]...), f.Workbooks[i+1:]...)
			*s = *buildSite(&nf)
			return true
		}
	}
	return false
}

// tokenOwner is the user the personal access token belongs to: the site's
// first user.
func (s *site) tokenOwner() string {
	if len(s.fixture.Users) > 0 {
		return s.fixture.Users[0].ID
	}
	return "9f9e9d9c-0000-4000-8000-000000000001"
}

func (s *site) projectName(id string) string {
	if p := s.projects[id]; p != nil {
		return p.Name
	}
	return ""
}

func (s *site) ownerField(id string, f func(*User) string) string {
	if u := s.users[id]; u != nil {
		return f(u)
	}
	return ""
}

// tableFullName is how Tableau shows a table: [SCHEMA].[NAME].
func tableFullName(t FixtureTable) string {
	if t.FullName != "" {
		return t.FullName
	}
	if t.Schema == "" {
		return "[" + t.Name + "]"
	}
	return "[" + t.Schema + "].[" + t.Name + "]"
}

// versionOK reports whether the REST version v is one this server speaks: 2.4 up to its own.
func versionOK(v, server string) bool {
	var maj, min, smaj, smin int
	if _, err := fmt.Sscanf(v, "%d.%d", &maj, &min); err != nil || fmt.Sprintf("%d.%d", maj, min) != v {
		return false
	}
	if _, err := fmt.Sscanf(server, "%d.%d", &smaj, &smin); err != nil {
		return false
	}
	after24 := maj > 2 || (maj == 2 && min >= 4)
	upTo := maj < smaj || (maj == smaj && min <= smin)
	return after24 && upTo
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}
