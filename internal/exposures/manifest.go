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

// RawNode is a node as manifest.json writes it: the fields matching reads.
type RawNode struct {
	ResourceType string               `json:"resource_type"`
	PackageName  string               `json:"package_name"`
	Name         string               `json:"name"`
	SourceName   string               `json:"source_name"`
	Database     *string              `json:"database"`
	Schema       string               `json:"schema"`
	Alias        string               `json:"alias"`
	Identifier   string               `json:"identifier"`
	RelationName *string              `json:"relation_name"`
	Columns      map[string]RawColumn `json:"columns"`
	Config       RawConfig            `json:"config"`
}

// RawColumn is a node's documented column.
type RawColumn struct {
	Name string `json:"name"`
}

// RawConfig is the part of a node's config matching reads.
type RawConfig struct {
	Materialized string `json:"materialized"`
	Enabled      *bool  `json:"enabled"`
}

var versionRE = regexp.MustCompile(`/manifest/v(\d+)\.json`)

// MinSchemaVersion is the oldest manifest schema this package reads.
const MinSchemaVersion = 10

// LoadManifest reads a manifest.json as a stream, keeping only what matching
// needs: one node at a time is decoded, and everything else (compiled SQL,
// macros, docs: most of a large manifest) is skipped token by token, so memory
// stays near the size of the result, not of the document.
func LoadManifest(r io.Reader) (*Manifest, error) {
	m := &Manifest{}
	err := ReadManifest(r, map[string]func(*json.Decoder) error{
		"metadata": m.ReadMetadata,
		"nodes":    func(dec *json.Decoder) error { return readNodes(dec, m.Add) },
		"sources":  func(dec *json.Decoder) error { return readNodes(dec, m.Add) },
	})
	if err != nil {
		return nil, err
	}
	m.Sort()
	return m, nil
}

// ReadManifest reads a manifest.json as a stream: the value of each top-level
// key in read is handed to its function, which decodes it; every other is
// skipped token by token. A manifest has nodes or sources, or it is refused.
func ReadManifest(r io.Reader, read map[string]func(*json.Decoder) error) error {
	return ReadManifestFrom(json.NewDecoder(bufio.NewReaderSize(r, 64<<10)), read)
}

// ReadManifestFrom is ReadManifest of the manifest dec is at the start of,
// read to its closing brace and no further: a manifest inside another
// document too.
func ReadManifestFrom(dec *json.Decoder, read map[string]func(*json.Decoder) error) error {
	if err := expectDelim(dec, '{'); err != nil {
		return fmt.Errorf("manifest is not valid JSON: %w", err)
	}
	sawNodes := false
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return fmt.Errorf("manifest is not valid JSON: %w", err)
		}
		sawNodes = sawNodes || key == "nodes" || key == "sources"
		if f, ok := read[fmt.Sprint(key)]; ok {
			err = f(dec)
		} else if err = skipValue(dec); err != nil {
			err = fmt.Errorf("manifest is not valid JSON: %w", err)
		}
		if err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("manifest is not valid JSON: %w", err)
	}
	if !sawNodes {
		return fmt.Errorf("this JSON has no nodes or sources: is it a dbt manifest.json (target/manifest.json)?")
	}
	return nil
}

// Sort orders the nodes by unique ID, as LoadManifest returns them.
func (m *Manifest) Sort() {
	sort.Slice(m.Nodes, func(i, j int) bool { return m.Nodes[i].UniqueID < m.Nodes[j].UniqueID })
}

// ReadMetadata reads the manifest's metadata: its schema version, refused
// when older than MinSchemaVersion.
func (m *Manifest) ReadMetadata(dec *json.Decoder) error {
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
func readNodes(dec *json.Decoder, add func(id string, n *RawNode)) error {
	return ReadEntries(dec, func(id string) error {
		var n RawNode
		if err := dec.Decode(&n); err != nil {
			return fmt.Errorf("manifest node %v is not valid JSON: %w", id, err)
		}
		add(id, &n)
		return nil
	})
}

// ReadEntries walks an object (nodes, sources, macros) an entry at a time:
// each is given the entry's key and decodes its value from dec. A null
// object has no entries.
func ReadEntries(dec *json.Decoder, each func(id string) error) error {
	tok, err := dec.Token()
	switch {
	case err != nil:
		return fmt.Errorf("manifest is not valid JSON: %w", err)
	case tok == nil:
		return nil // null: nothing to read
	case tok != json.Delim('{'):
		return fmt.Errorf("manifest nodes, sources and macros must be objects")
	}
	for dec.More() {
		id, err := dec.Token()
		if err != nil {
			return fmt.Errorf("manifest is not valid JSON: %w", err)
		}
		if err := each(fmt.Sprint(id)); err != nil {
			return err
		}
	}
	_, err = dec.Token() // the closing brace
	return err
}

// Readable says whether a node of this resource type can be read by a
// dashboard, or be upstream of one: a model, seed, snapshot or source.
func Readable(resourceType string) bool {
	switch resourceType {
	case "model", "seed", "snapshot", "source":
		return true
	}
	return false
}

// Add keeps a node that a dashboard can depend on, and drops any other.
func (m *Manifest) Add(id string, n *RawNode) {
	if !Readable(n.ResourceType) {
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
func LoadManifestFile(path string) (*Manifest, error) { return LoadFile(path, LoadManifest) }

// LoadFile reads a dbt artifact from disk with load, naming the file in errors.
func LoadFile[T any](path string, load func(io.Reader) (T, error)) (T, error) {
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
