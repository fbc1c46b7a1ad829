package exposures

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// bigManifest builds a manifest of about size bytes: many models with the bulky
// fields real manifests carry (compiled SQL, columns, docs) that loading skips.
func bigManifest(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": {`)
	filler := bytes.Repeat([]byte("select a, b, c from somewhere where x = 1 "), 40)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"model.big.m%d": {"resource_type": "model", "package_name": "big", "name": "m%d", "database": "DW", "schema": "S%d",
			"alias": "M%d", "relation_name": "DW.S%d.M%d", "config": {"materialized": "table", "tags": ["a", "b"]},
			"raw_code": %q, "compiled_code": %q, "columns": {"id": {"name": "id", "description": "the id", "data_type": "int"}},
			"depends_on": {"nodes": ["model.big.m%d"]}, "description": "A model with a long description."}`,
			i, i, i%50, i, i%50, i, filler, filler, i/2)
	}
	b.WriteString(`}, "sources": {}, "macros": {}, "docs": {}}`)
	return b.Bytes()
}

func BenchmarkLoadManifest50MB(b *testing.B) {
	raw := bigManifest(50 << 20)
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, err := LoadManifest(bytes.NewReader(raw))
		if err != nil {
			b.Fatal(err)
		}
		if len(m.Nodes) == 0 {
			b.Fatal("no nodes")
		}
		_ = NewIndex(m)
	}
}

// Loading streams: a 50 MB manifest costs far less memory than the document,
// because the bulky fields are skipped rather than held.
func TestLoadManifestDoesNotHoldTheDocument(t *testing.T) {
	raw := bigManifest(50 << 20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m, err := LoadManifest(bytes.NewReader(raw))
	runtime.ReadMemStats(&after)
	if err != nil || len(m.Nodes) == 0 {
		t.Fatalf("%v, %d nodes", err, len(m.Nodes))
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 40<<20 {
		t.Fatalf("loading a %d MB manifest allocated %d MB; it must not hold the document", len(raw)>>20, allocated>>20)
	}
	if _, err := LoadManifest(strings.NewReader(`{"metadata": {}, "nodes": null, "sources": {}}`)); err != nil {
		t.Fatalf("null nodes: %v", err)
	}
}
