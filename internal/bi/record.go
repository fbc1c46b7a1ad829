package bi

import (
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// recordTypes caches the struct type of each set of keys and value types.
var recordTypes sync.Map // signature -> reflect.Type

// Record returns fields as a struct value that encoding/json or yaml (tag
// "json" or "yaml") encodes in the fields' order, each under its key, empty
// values left out: one encoder pass for the whole record, no marshaling per
// field. Fields with a nil value or no key are left out.
func Record(tag string, fields []Field) any {
	var sig strings.Builder
	sig.WriteString(tag)
	kept := make([]Field, 0, len(fields))
	for _, f := range fields {
		if f.Value == nil || f.Key == "" {
			continue
		}
		kept = append(kept, f)
		sig.WriteString("\x00" + f.Key + "\x00" + reflect.TypeOf(f.Value).String())
	}
	t, ok := recordTypes.Load(sig.String())
	if !ok {
		sf := make([]reflect.StructField, len(kept))
		for i, f := range kept {
			sf[i] = reflect.StructField{Name: "F" + strconv.Itoa(i), Type: reflect.TypeOf(f.Value),
				Tag: reflect.StructTag(tag + `:"` + f.Key + `,omitempty"`)}
		}
		t, _ = recordTypes.LoadOrStore(sig.String(), reflect.StructOf(sf))
	}
	v := reflect.New(t.(reflect.Type)).Elem()
	for i, f := range kept {
		v.Field(i).Set(reflect.ValueOf(f.Value))
	}
	return v.Interface()
}
