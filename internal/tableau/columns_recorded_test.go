package tableau

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func readRecorded[T any](t *testing.T, file, field string) []T {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "datahub", file))
	if err != nil {
		t.Fatal(err)
	}
	var ans gqlAnswer[map[string]*connection[T]]
	if err := json.Unmarshal(b, &ans); err != nil {
		t.Fatalf("%s does not decode into the client's types: %v", file, err)
	}
	return (*ans.Data)[field].Nodes
}

// On Tableau's recorded answers (datahub's test setup): upstream fields named
// only by data source and name are found, calculated fields without a
// __typename are recognised, and a column whose table Tableau does not name
// is reported, not guessed.
func TestRecordedAnswersFollowFieldsByName(t *testing.T) {
	sheets := readRecorded[gqlSheet](t, "sheetsConnection_trimmed.json", "sheetsConnection")
	fields := readRecorded[gqlField](t, "embeddedDatasourcesFieldUpstream_a561c7beccd3_trimmed.json", "fieldsConnection")
	if len(sheets) != 2 || sheets[1].Workbook.LUID != "65a404a8-48a2-4c2a-9eb0-14ee5e78b22b" || len(sheets[1].DatasourceFields) != 5 || len(fields) != 7 {
		t.Fatalf("decoded %d sheets and %d fields: %+v", len(sheets), len(fields), sheets)
	}
	g := newFieldGraph(newColumnTable())
	for _, s := range sheets {
		g.refs(s.DatasourceFields)
	}
	for i := range fields {
		g.add(&fields[i])
	}
	node := func(id string) *fieldNode { return &g.nodes[g.index[id]] }
	if !node("06922989-6ee4-81bb-79d4-f9f9faf17819").calculated || node("ffd5c589-6741-450b-bbe6-b21f6a31670e").calculated {
		t.Fatal("Delivery Rate (upstream fields, no __typename) is not calculated, or Id (none) is")
	}
	ids := map[int32]string{}
	for id, n := range g.index {
		ids[n] = id
	}
	seen := map[visit]bool{}
	var reached []reach
	g.reaches(fieldRef{node: g.index["06922989-6ee4-81bb-79d4-f9f9faf17819"]}, false, seen, &reached)
	var visited []string
	for r := range seen {
		visited = append(visited, ids[r.node])
	}
	sort.Strings(visited)
	// Delivery Rate, then Delivered Email and Sent Email by name, then Id through Sent Email.
	want := "06922989-6ee4-81bb-79d4-f9f9faf17819 4dd95bc1-8c08-92e5-09ae-cac7d0736c38 4ea37317-863a-b8f7-3451-2ff1dcd43d5c ffd5c589-6741-450b-bbe6-b21f6a31670e"
	if got := strings.Join(visited, " "); got != want {
		t.Fatalf("fields followed:\n got %s\nwant %s", got, want)
	}
	// The recorded column's table comes by type and ID, as the client asks.
	col := &g.cols.entries[node("0e1a7126-7f89-6bcd-d3ac-bc7a36dbe206").columns[0]]
	if col.tableType != "DatabaseTable" || col.tableID != "82c42950-210b-ba3f-b2e9-53240474a8fd" || col.name != "id" {
		t.Fatalf("the recorded column: %+v", col)
	}
	if used, problem := warehouseColumns(col, nil); used != nil || !strings.Contains(problem, "does not name this column's table") {
		t.Fatalf("a column whose table Tableau did not give: %v, %q", used, problem)
	}
}
