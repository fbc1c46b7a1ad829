// Package exposurestest checks dbt YAML against dbt's published JSON schemas,
// for the tests of every package that renders exposures.
package exposurestest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// schemas are dbt's current schema and its newer engine's stricter one, kept
// in the exposures package's testdata (its NOTICE.md says where from).
var schemas = []string{"dbt-jsonschema-dbt_yml_files-latest.json", "dbt-jsonschema-dbt_yml_files-latest-fusion.json"}

// reference is the folder that holds them, found from this file's place so
// that any package's tests can use it.
func reference() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "reference")
}

// Validate fails t for each schema the YAML document is invalid against.
func Validate(t testing.TB, doc []byte) {
	t.Helper()
	for _, err := range SchemaErrors(t, doc) {
		t.Errorf("%v\n%s", err, doc)
	}
}

// SchemaErrors are the schemas' verdicts on a YAML document, one per schema
// that refuses it.
func SchemaErrors(t testing.TB, doc []byte) []error {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(v)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	for _, name := range schemas {
		c := jsonschema.NewCompiler()
		// dbt's schemas use ECMAScript look-aheads that Go's regexp lacks.
		c.UseRegexpEngine(func(s string) (jsonschema.Regexp, error) {
			re, err := regexp2.Compile(s, regexp2.ECMAScript)
			if err != nil {
				return nil, err
			}
			return ecmaRegexp{re}, nil
		})
		sch, err := c.Compile(filepath.Join(reference(), name))
		if err != nil {
			t.Fatalf("compiling %s: %v", name, err)
		}
		if err := sch.Validate(inst); err != nil {
			errs = append(errs, fmt.Errorf("YAML is invalid against %s: %v", name, err))
		}
	}
	return errs
}

type ecmaRegexp struct{ re *regexp2.Regexp }

func (r ecmaRegexp) MatchString(s string) bool {
	ok, _ := r.re.MatchString(s)
	return ok
}

func (r ecmaRegexp) String() string { return r.re.String() }
