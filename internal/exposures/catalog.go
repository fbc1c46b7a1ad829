package exposures

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Catalog is what `dbt docs generate` writes to target/catalog.json that
// column matching needs: each node's columns as the warehouse has them.
type Catalog struct {
	Columns map[string][]CatalogColumn // by node unique ID, in the warehouse's order
}

// CatalogColumn is a warehouse column of a node.
type CatalogColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// LoadCatalog reads a catalog.json as a stream: one node at a time is
// decoded and its statistics dropped. Bad input is an error that says what
// the document is not.
func LoadCatalog(r io.Reader) (*Catalog, error) {
	return LoadCatalogFrom(json.NewDecoder(bufio.NewReaderSize(r, 64<<10)))
}

// LoadCatalogFrom reads a catalog.json that dec is at the start of, and
// no further than its end: a catalog inside another document too.
func LoadCatalogFrom(dec *json.Decoder) (*Catalog, error) {
	if err := expectDelim(dec, '{'); err != nil {
		return nil, fmt.Errorf("catalog is not valid JSON: %w", err)
	}
	c := &Catalog{Columns: map[string][]CatalogColumn{}}
	sawNodes := false
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("catalog is not valid JSON: %w", err)
		}
		switch key {
		case "metadata":
			err = checkCatalogMetadata(dec)
		case "nodes", "sources":
			sawNodes = true
			err = readCatalogNodes(dec, c)
		default:
			if err = skipValue(dec); err != nil {
				err = fmt.Errorf("catalog is not valid JSON: %w", err)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("catalog is not valid JSON: %w", err)
	}
	if !sawNodes {
		return nil, fmt.Errorf("this JSON has no nodes or sources: is it dbt docs generate's catalog.json (target/catalog.json)?")
	}
	return c, nil
}

// checkCatalogMetadata refuses another dbt artifact, such as a manifest,
// whose nodes would otherwise read as a catalog's.
func checkCatalogMetadata(dec *json.Decoder) error {
	var md struct {
		SchemaVersion string `json:"dbt_schema_version"`
	}
	if err := dec.Decode(&md); err != nil {
		return fmt.Errorf("catalog metadata is not valid JSON: %w", err)
	}
	if md.SchemaVersion != "" && !strings.Contains(md.SchemaVersion, "/catalog/") {
		return fmt.Errorf("this JSON is %s, not dbt docs generate's catalog.json (target/catalog.json)", md.SchemaVersion)
	}
	return nil
}

// catalogNode is one entry of a catalog's nodes or sources.
type catalogNode struct {
	Columns map[string]struct {
		Name  string `json:"name"`
		Type  string `json:"type"`
		Index int    `json:"index"`
	} `json:"columns"`
}

func readCatalogNodes(dec *json.Decoder, c *Catalog) error {
	if err := expectDelim(dec, '{'); err != nil {
		return fmt.Errorf("catalog nodes: %w", err)
	}
	for dec.More() {
		id, err := dec.Token()
		if err != nil {
			return fmt.Errorf("catalog is not valid JSON: %w", err)
		}
		var n catalogNode
		if err := dec.Decode(&n); err != nil {
			return fmt.Errorf("catalog node %v is not valid JSON: %w", id, err)
		}
		type indexed struct {
			CatalogColumn
			index int
		}
		cols := make([]indexed, 0, len(n.Columns))
		for key, col := range n.Columns {
			if col.Name == "" {
				col.Name = key
			}
			cols = append(cols, indexed{CatalogColumn{Name: col.Name, Type: col.Type}, col.Index})
		}
		sort.Slice(cols, func(i, j int) bool { return cols[i].index < cols[j].index })
		out := make([]CatalogColumn, len(cols))
		for i, col := range cols {
			out[i] = col.CatalogColumn
		}
		c.Columns[fmt.Sprint(id)] = out
	}
	_, err := dec.Token() // the closing brace
	return err
}

// LoadCatalogFile reads a catalog.json from disk.
func LoadCatalogFile(path string) (*Catalog, error) { return LoadFile(path, LoadCatalog) }

// Compact encodes the catalog as the server keeps it: the columns by node.
func (c *Catalog) Compact() ([]byte, error) { return json.Marshal(c.Columns) }

// LoadStoredCatalog reads a catalog encoded by Compact.
func LoadStoredCatalog(b []byte) (*Catalog, error) {
	c := &Catalog{}
	if err := json.Unmarshal(b, &c.Columns); err != nil {
		return nil, fmt.Errorf("stored catalog: %w", err)
	}
	return c, nil
}
