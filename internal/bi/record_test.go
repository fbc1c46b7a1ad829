package bi

import (
	"encoding/json"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

// A record encodes its fields in their order under their keys, leaves out
// empty and nil values and keyless fields, and reuses one type per key set.
func TestRecordKeepsOrderAndLeavesOutEmptyValues(t *testing.T) {
	type item struct {
		ID string `json:"id" yaml:"id"`
	}
	fields := []Field{{Key: "zeta", Value: "1"}, {Key: "alpha", Value: ""}, {Key: "mid", Value: []item{{ID: "x"}}},
		{Key: "none", Value: nil}, {Key: "", Value: "keyless"}, {Key: "empty", Value: []item{}}}
	j, err := json.Marshal(Record("json", fields))
	if err != nil || string(j) != `{"zeta":"1","mid":[{"id":"x"}]}` {
		t.Fatalf("json: %s %v", j, err)
	}
	y, err := yaml.Marshal(Record("yaml", fields))
	if err != nil || string(y) != "zeta: \"1\"\nmid:\n    - id: x\n" {
		t.Fatalf("yaml: %q %v", y, err)
	}
	same := []Field{{Key: "zeta", Value: "2"}, {Key: "alpha", Value: "a"}, {Key: "mid", Value: []item{}}, {Key: "empty", Value: []item{{ID: "y"}}}}
	if reflect.TypeOf(Record("json", fields)) != reflect.TypeOf(Record("json", same)) {
		t.Fatal("the same keys and value types made two struct types")
	}
}
