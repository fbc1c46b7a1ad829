// Package exposures maps Tableau lineage to dbt nodes and renders dbt exposures
// YAML. It is pure Go: the only I/O is reading a manifest.
package exposures

import (
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
	Config       struct {
		Materialized string `json:"materialized"`
		Enabled      *bool  `json:"enabled"`
	} `json:"config"`
}

var versionRE = regexp.MustCompile(`/manifest/v(\d+)\.json`)

// MinSchemaVersion is the oldest manifest schema this package reads.
const MinSchemaVersion = 10

// LoadManifest reads a manifest.json, keeping only what matching needs.
func LoadManifest(r io.Reader) (*Manifest, error) {
	var raw struct {
		Metadata struct {
			SchemaVersion string `json:"dbt_schema_version"`
		} `json:"metadata"`
		Nodes   map[string]rawNode `json:"nodes"`
		Sources map[string]rawNode `json:"sources"`
	}
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("manifest is not valid JSON: %w", err)
	}
	m := &Manifest{}
	if v := versionRE.FindStringSubmatch(raw.Metadata.SchemaVersion); v != nil {
		m.SchemaVersion, _ = strconv.Atoi(v[1])
		if m.SchemaVersion < MinSchemaVersion {
			return nil, fmt.Errorf("manifest schema v%d is older than v%d (dbt 1.6): regenerate it with a newer dbt (dbt parse)", m.SchemaVersion, MinSchemaVersion)
		}
	}
	if raw.Nodes == nil && raw.Sources == nil {
		return nil, fmt.Errorf("this JSON has no nodes or sources: is it a dbt manifest.json (target/manifest.json)?")
	}
	add := func(id string, n rawNode) {
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
		m.Nodes = append(m.Nodes, node)
	}
	for id, n := range raw.Nodes {
		add(id, n)
	}
	for id, n := range raw.Sources {
		add(id, n)
	}
	sort.Slice(m.Nodes, func(i, j int) bool { return m.Nodes[i].UniqueID < m.Nodes[j].UniqueID })
	return m, nil
}

// LoadManifestFile reads a manifest.json from disk.
func LoadManifestFile(path string) (*Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := LoadManifest(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}
