package mquery

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

type referenceCase struct {
	Expression string            `json:"expression"`
	Expected   []string          `json:"expected_tables"`
	Platform   string            `json:"platform"`
	Notes      string            `json:"notes"`
	Parameters map[string]string `json:"parameters"`
	Shared     []struct {
		Name       string `json:"name"`
		Expression string `json:"expression"`
	} `json:"shared_expressions"`
}

// Every reference case yields exactly its expected tables, compared as the
// file's conventions state (datahub lower-cases names).
func TestReferenceExpressions(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "m-expressions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []referenceCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) != 29 {
		t.Fatalf("%d reference cases, want 29", len(cases))
	}
	for i, c := range cases {
		env := Env{Parameters: c.Parameters, Expressions: map[string]string{}}
		for _, s := range c.Shared {
			env.Expressions[s.Name] = s.Expression
		}
		res := Analyze(c.Expression, env)
		var got []string
		for _, tb := range res.Tables {
			got = append(got, strings.ToLower(tb.FullName()))
		}
		want := make([]string, len(c.Expected))
		for j, e := range c.Expected {
			want[j] = strings.ToLower(e)
		}
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("case %d (%s; %s):\n got %v\nwant %v\nproblems %v", i, c.Platform, c.Notes, got, want, res.Problems)
		}
		if len(want) > 0 && len(res.Problems) > 0 {
			t.Errorf("case %d: problems reported for an expression fully understood: %v", i, res.Problems)
		}
		if len(want) == 0 && len(res.Problems) == 0 {
			t.Errorf("case %d: no tables and no reason given", i)
		}
	}
}

// What cannot be followed is reported with the reason, never guessed.
func TestUnderstoodOrExplained(t *testing.T) {
	cases := []struct {
		name, expr string
		env        Env
		problem    string
	}{
		{"missing parameter", `let S = Snowflake.Databases("h", "wh"), D = S{[Name=#"db param",Kind="Database"]}[Data], Sc = D{[Name="PUBLIC",Kind="Schema"]}[Data], T = Sc{[Name="ORDERS",Kind="Table"]}[Data] in T`,
			Env{}, "db param is neither a step"},
		{"navigation stops at the schema", `let S = Sql.Database("h", "db"), Sc = S{[Name="dbo"]}[Data] in Sc`, Env{}, `stops at "db.dbo"`},
		{"not M", `let x = in`, Env{}, "could not be parsed"},
		{"query from a step", `let q = Text.Upper("select 1"), S = Value.NativeQuery(Sql.Database("h", "db"), q) in S`, Env{}, "query is not text"},
		{"unqualified native table on Snowflake", `Value.NativeQuery(Snowflake.Databases("h", "wh"), "select * from orders")`, Env{}, "does not state"},
		{"self reference", `let a = b, b = a in a`, Env{}, "refers to itself"},
		{"shared expression cycle", `Loop`, Env{Expressions: map[string]string{"Loop": "Loop"}}, "refers to itself"},
		{"no connector", `Table.FromRows({{1, 2}})`, Env{}, "no warehouse connector"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := Analyze(c.expr, c.env)
			if len(res.Tables) != 0 {
				t.Errorf("guessed tables: %+v", res.Tables)
			}
			if !strings.Contains(strings.Join(res.Problems, "\n"), c.problem) {
				t.Fatalf("problems %q, want one containing %q", res.Problems, c.problem)
			}
		})
	}
}

// A shared expression that is a parameter (a value with meta) resolves; native
// queries are reported with their connector.
func TestParametersAndNativeQueries(t *testing.T) {
	env := Env{Expressions: map[string]string{
		"Database": `"ANALYTICS" meta [IsParameterQuery=true, Type="Text", IsParameterQueryRequired=true]`,
	}}
	res := Analyze(`let S = Value.NativeQuery(Snowflake.Databases("h", "wh"){[Name=Database]}[Data], "select * from MART.ORDERS o join MART.CUSTOMERS c on o.id = c.id") in S`, env)
	var got []string
	for _, tb := range res.Tables {
		got = append(got, tb.FullName()+" via "+tb.Connector)
	}
	want := "ANALYTICS.mart.orders via Snowflake.Databases,ANALYTICS.mart.customers via Snowflake.Databases"
	if strings.Join(got, ",") != want || len(res.Problems) != 0 {
		t.Fatalf("got %v (problems %v), want %s", got, res.Problems, want)
	}
	if len(res.NativeQueries) != 1 || res.NativeQueries[0].Connector != "Snowflake.Databases" || !strings.HasPrefix(res.NativeQueries[0].Query, "select * from MART.ORDERS") {
		t.Fatalf("native queries: %+v", res.NativeQueries)
	}
}

var quotedNames = regexp.MustCompile(`"([^"]*)"`)

func FuzzAnalyze(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "m-expressions.json"))
	if err != nil {
		f.Fatal(err)
	}
	var cases []referenceCase
	if err := json.Unmarshal(b, &cases); err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		f.Add(c.Expression)
	}
	f.Add(`let S = Sql.Database("h", "db"), T = S{[Schema="dbo",Item="t"]}[Data], R = Table.RenameColumns(T, {{"a", "b"}}),
		Q = Value.NativeQuery(S, "select x.a as k, * from dbo.u x"), C = Table.SelectColumns(R, {"b", "c"}) in Table.Combine({C, Q})`)
	f.Add(strings.Repeat("(", 10000))
	f.Add(`let a = "#(lf` + "\x00")
	f.Fuzz(func(t *testing.T, expr string) {
		res := Analyze(expr, Env{Expressions: map[string]string{"Shared": expr}})
		read := map[string]bool{}
		for _, tb := range res.Tables {
			if tb.Database == "" || tb.Schema == "" || tb.Name == "" {
				t.Fatalf("a table with an empty part: %+v", tb)
			}
			read[strings.ToLower(tb.FullName())] = true
		}
		// Every column the expression quotes maps to columns of tables it
		// reads, or to a computed column, or says why it does not.
		for _, m := range quotedNames.FindAllStringSubmatch(expr, 20) {
			src := res.Columns.Of(m[1])
			if src.Reason == "" && len(src.Columns) == 0 && !src.Derived {
				t.Fatalf("column %q: neither columns nor a reason", m[1])
			}
			for _, c := range src.Columns {
				if !read[strings.ToLower(c.Table.FullName())] {
					t.Fatalf("column %q reads %v, a table the expression does not read (%v)", m[1], c, read)
				}
			}
		}
	})
}

// A step used twice by each of many steps is read once: the value does not
// double at each level (40 levels would be 2^40 copies).
func TestSharedStepsDoNotMultiply(t *testing.T) {
	var b strings.Builder
	b.WriteString("let\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "s%d = Table.Combine({s%d, s%d, Missing}),\n", i, i+1, i+1)
	}
	b.WriteString(`s40 = Sql.Database("h", "db"){[Schema="dbo",Item="orders"]}[Data]` + "\nin s0")
	res := Analyze(b.String(), Env{})
	if len(res.Tables) != 1 || res.Tables[0].FullName() != "db.dbo.orders" || len(res.Problems) != 1 {
		t.Fatalf("tables %+v, problems %q", res.Tables, res.Problems)
	}
}
