// Package exposures maps any BI tool's dashboards (bi.Dashboard: Tableau
// workbooks, Power BI reports, …) to dbt nodes and renders dbt exposures YAML.
// It knows no tool; it is pure Go, and its only I/O is reading a manifest.
package exposures

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
)

// Node is a dbt node a dashboard can depend on: a model, seed, snapshot or source.
type Node struct {
	UniqueID     string
	ResourceType string // model, seed, snapshot or source
	Package      string
	Name         string // model/seed/snapshot name, or the source table's name
	SourceName   string // sources only
	Database     string
	Schema       string
	Identifier   string // alias (models) or identifier (sources): the table's name in the warehouse
	RelationName string // as dbt renders it, e.g. "db"."schema"."orders"
	// Columns are the node's documented columns, as its YAML names them.
	Columns []string `json:",omitempty"`
}

// Ref is how an exposure's depends_on names the node.
func (n *Node) Ref(qualify bool) string {
	switch {
	case n.ResourceType == "source":
		return fmt.Sprintf("source('%s', '%s')", n.SourceName, n.Name)
	case qualify:
		return fmt.Sprintf("ref('%s', '%s')", n.Package, n.Name)
	default:
		return fmt.Sprintf("ref('%s')", n.Name)
	}
}

// Manifest is the part of dbt's manifest.json that matching needs.
type Manifest struct {
	SchemaVersion int // 12 for .../manifest/v12.json; 0 when not stated
	Nodes         []Node
}

type rawNode struct {
	ResourceType string  `json:"resource_type"`
	PackageName  string  `json:"package_name"`
	Name         string  `json:"name"`
	SourceName   string  `json:"source_name"`
	Database     *string `json:"database"`
	Schema       string  `json:"schema"`
	Alias        string  `json:"alias"`
	Identifier   string  `json:"identifier"`
	RelationName *string `json:"relation_name"`
	Columns      map[string]struct {
		Name string `json:"name"`
	} `json:"columns"`
	Config struct {
		Materialized string `json:"materialized"`
		Enabled      *bool  `json:"enabled"`
	} `json:"config"`
}

var versionRE = regexp.MustCompile(`/manifest/v(\d+)\.json`)

// MinSchemaVersion is the oldest manifest schema this package reads.
const MinSchemaVersion = 10

// LoadManifest reads a manifest.json as a stream, keeping only what matching
// needs: one node at a time is decoded, and everything else (compiled SQL,
// macros, docs: most of a large manifest) is skipped token by token, so memory
// stays near the size of the result, not of the document.
func LoadManifest(r io.Reader) (*Manifest, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	if err := expectDelim(dec, '{'); err != nil {
		return nil, fmt.Errorf("manifest is not valid JSON: %w", err)
	}
	m := &Manifest{}
	sawNodes := false
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("manifest is not valid JSON: %w", err)
		}
		switch key {
		case "metadata":
			err = m.readMetadata(dec)
		case "nodes", "sources":
			sawNodes = true
			err = readNodes(dec, m.add)
		default:
			if err = skipValue(dec); err != nil {
				err = fmt.Errorf("manifest is not valid JSON: %w", err)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if !sawNodes {
		return nil, fmt.Errorf("this JSON has no nodes or sources: is it a dbt manifest.json (target/manifest.json)?")
	}
	sort.Slice(m.Nodes, func(i, j int) bool { return m.Nodes[i].UniqueID < m.Nodes[j].UniqueID })
	return m, nil
}

func (m *Manifest) readMetadata(dec *json.Decoder) error {
	var md struct {
		SchemaVersion string `json:"dbt_schema_version"`
	}
	if err := dec.Decode(&md); err != nil {
		return fmt.Errorf("manifest metadata is not valid JSON: %w", err)
	}
	if v := versionRE.FindStringSubmatch(md.SchemaVersion); v != nil {
		m.SchemaVersion, _ = strconv.Atoi(v[1])
		if m.SchemaVersion < MinSchemaVersion {
			return fmt.Errorf("manifest schema v%d is older than v%d (dbt 1.6): regenerate it with a newer dbt (dbt parse)", m.SchemaVersion, MinSchemaVersion)
		}
	}
	return nil
}

// readNodes decodes the object of nodes (or sources) one entry at a time.
func readNodes(dec *json.Decoder, add func(id string, n *rawNode)) error {
	tok, err := dec.Token()
	switch {
	case err != nil:
		return fmt.Errorf("manifest is not valid JSON: %w", err)
	case tok == nil:
		return nil // null: nothing to read
	case tok != json.Delim('{'):
		return fmt.Errorf("manifest nodes and sources must be objects")
	}
	for dec.More() {
		id, err := dec.Token()
		if err != nil {
			return fmt.Errorf("manifest is not valid JSON: %w", err)
		}
		var n rawNode
		if err := dec.Decode(&n); err != nil {
			return fmt.Errorf("manifest node %v is not valid JSON: %w", id, err)
		}
		add(fmt.Sprint(id), &n)
	}
	_, err = dec.Token() // the closing brace
	return err
}

// add keeps a node that a dashboard can depend on.
func (m *Manifest) add(id string, n *rawNode) {
	switch n.ResourceType {
	case "model", "seed", "snapshot", "source":
	default:
		return
	}
	if n.Config.Enabled != nil && !*n.Config.Enabled {
		return
	}
	if n.Config.Materialized == "ephemeral" {
		return // no relation in the warehouse to match
	}
	node := Node{UniqueID: id, ResourceType: n.ResourceType, Package: n.PackageName, Name: n.Name, SourceName: n.SourceName, Schema: n.Schema}
	if n.Database != nil {
		node.Database = *n.Database
	}
	node.Identifier = n.Alias
	if n.ResourceType == "source" || node.Identifier == "" {
		node.Identifier = n.Identifier
	}
	if node.Identifier == "" {
		node.Identifier = n.Name
	}
	if n.RelationName != nil {
		node.RelationName = *n.RelationName
	}
	for key, c := range n.Columns {
		if c.Name == "" {
			c.Name = key
		}
		node.Columns = append(node.Columns, c.Name)
	}
	sort.Strings(node.Columns)
	m.Nodes = append(m.Nodes, node)
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != d {
		return fmt.Errorf("expected %q, found %v", d, tok)
	}
	return nil
}

// skipValue reads past one value, whatever its size, without keeping it.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// LoadManifestFile reads a manifest.json from disk.
func LoadManifestFile(path string) (*Manifest, error) { return loadFile(path, LoadManifest) }

// loadFile reads a dbt artifact from disk with load, naming the file in errors.
func loadFile[T any](path string, load func(io.Reader) (T, error)) (T, error) {
	f, err := os.Open(path)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	v, err := load(f)
	if err != nil {
		return v, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// compactMarker starts a manifest as Compact encodes it.
const compactMarker = `{"dbtexposures_manifest":1,`

type compactManifest struct {
	Marker        int    `json:"dbtexposures_manifest"`
	SchemaVersion int    `json:"schema_version"`
	Nodes         []Node `json:"nodes"`
}

// Compact encodes the manifest as it is kept: its schema version and the
// nodes matching needs, a small fraction of the manifest.json it came from.
func (m *Manifest) Compact() ([]byte, error) {
	return json.Marshal(compactManifest{Marker: 1, SchemaVersion: m.SchemaVersion, Nodes: m.Nodes})
}

// LoadStored reads a manifest encoded by Compact, or a whole manifest.json.
func LoadStored(b []byte) (*Manifest, error) {
	if !bytes.HasPrefix(b, []byte(compactMarker)) {
		return LoadManifest(bytes.NewReader(b))
	}
	var c compactManifest
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("stored manifest: %w", err)
	}
	return &Manifest{SchemaVersion: c.SchemaVersion, Nodes: c.Nodes}, nil
}
