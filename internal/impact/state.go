// Package impact tells which dashboards a dbt change reaches, and how: it
// compares two manifests node by node as dbt's state:modified does, adds the
// column changes dbt does not see, and follows the changes down the graph to
// the dashboards that read them. It knows no BI tool, no Terraform and no HTTP.
package impact

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/exposures"
)

// State is what the comparison needs of one manifest: its nodes and macros,
// with contents reduced to fingerprints, so that a stored state is small.
type State struct {
	Nodes  map[string]*Node  `json:"nodes"`
	Macros map[string]*Macro `json:"macros"`
}

// Node is a model, seed, snapshot or source, as dbt compares it.
type Node struct {
	ResourceType string `json:"type"`
	// Body fingerprints raw_code (a seed's file checksum).
	Body string `json:"body,omitempty"`
	// Config fingerprints the unrendered config, without the keys dbt leaves
	// out of the comparison (alias, schema, database, tags, group).
	Config string `json:"config,omitempty"`
	// Relation is the unrendered database, schema and alias (a source's
	// database, schema and identifier), each as JSON.
	Relation    []string `json:"relation"`
	FQN         []string `json:"fqn,omitempty"`
	PersistDocs []string `json:"persist_docs,omitempty"` // "relation", "columns"
	Description string   `json:"description,omitempty"`  // fingerprint
	ColumnDocs  string   `json:"column_docs,omitempty"`  // fingerprint of every column's description
	Contract    Contract `json:"contract"`
	// Ref is latest_version, access and deprecation_date (models), or a
	// source's quoting, freshness and external properties: each fingerprinted.
	Ref     map[string]string `json:"ref,omitempty"`
	Parents []string          `json:"parents,omitempty"`
	Macros  []string          `json:"macros,omitempty"`
	// Columns are the documented columns, with their data types when given.
	Columns []Column `json:"columns,omitempty"`
}

// Contract is a model's contract: enforced, and the checksum of its columns.
type Contract struct {
	Enforced bool   `json:"enforced,omitempty"`
	Checksum string `json:"checksum,omitempty"`
}

// Column is a column with its data type ("" when unknown).
type Column struct {
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
}

// Macro is a macro's SQL, fingerprinted, and the macros it calls.
type Macro struct {
	SQL    string   `json:"sql"`
	Macros []string `json:"macros,omitempty"`
}

// rawNode is a node as manifest.json writes it: what matching reads
// (exposures.RawNode) and what the comparison reads.
type rawNode struct {
	exposures.RawNode
	RawCode  string `json:"raw_code"`
	Checksum struct {
		Name     string `json:"name"`
		Checksum string `json:"checksum"`
	} `json:"checksum"`
	FQN         []string       `json:"fqn"`
	Description string         `json:"description"`
	Unrendered  map[string]any `json:"unrendered_config"`
	Config      struct {
		exposures.RawConfig
		PersistDocs map[string]any `json:"persist_docs"`
	} `json:"config"`
	Columns  map[string]rawColumn `json:"columns"`
	Contract *struct {
		Enforced bool    `json:"enforced"`
		Checksum *string `json:"checksum"`
	} `json:"contract"`
	DependsOn struct {
		Nodes  []string `json:"nodes"`
		Macros []string `json:"macros"`
	} `json:"depends_on"`
	LatestVersion      any     `json:"latest_version"`
	Access             any     `json:"access"`
	DeprecationDate    any     `json:"deprecation_date"`
	UnrenderedDatabase *string `json:"unrendered_database"`
	UnrenderedSchema   *string `json:"unrendered_schema"`
	Quoting            any     `json:"quoting"`
	Freshness          any     `json:"freshness"`
	LoadedAtField      any     `json:"loaded_at_field"`
	External           any     `json:"external"`
}

type rawColumn struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	DataType    string `json:"data_type"`
}

type rawMacro struct {
	MacroSQL  string `json:"macro_sql"`
	DependsOn struct {
		Macros []string `json:"macros"`
	} `json:"depends_on"`
}

// Manifest is a manifest.json read once: its state, and what matching
// dashboards to its nodes needs.
type Manifest struct {
	State    *State
	Matching *exposures.Manifest
}

// Load reads a manifest.json once, as a stream.
func Load(r io.Reader) (*Manifest, error) {
	return LoadFrom(json.NewDecoder(bufio.NewReaderSize(r, 64<<10)))
}

// LoadFrom reads the manifest dec is at the start of, to its end and no
// further: a manifest inside another document too.
func LoadFrom(dec *json.Decoder) (*Manifest, error) {
	st := &State{Nodes: map[string]*Node{}, Macros: map[string]*Macro{}}
	m := &exposures.Manifest{}
	nodes := func(dec *json.Decoder) error {
		return exposures.ReadEntries(dec, func(id string) error {
			var n rawNode
			if err := dec.Decode(&n); err != nil {
				return fmt.Errorf("manifest node %s is not valid JSON: %w", id, err)
			}
			st.add(id, &n)
			n.RawNode.Config = n.Config.RawConfig
			n.RawNode.Columns = map[string]exposures.RawColumn{}
			for k, c := range n.Columns {
				n.RawNode.Columns[k] = exposures.RawColumn{Name: c.Name}
			}
			m.Add(id, &n.RawNode)
			return nil
		})
	}
	err := exposures.ReadManifestFrom(dec, map[string]func(*json.Decoder) error{
		"metadata": m.ReadMetadata, "nodes": nodes, "sources": nodes,
		"macros": func(d *json.Decoder) error { return st.readMacros(d) },
	})
	if err != nil {
		return nil, err
	}
	m.Sort()
	return &Manifest{State: st, Matching: m}, nil
}

// Compact encodes the manifest as a server keeps it: the matching nodes as
// exposures.Manifest.Compact writes them (which exposures.LoadStored reads),
// and the state beside them.
func (m *Manifest) Compact() ([]byte, error) {
	matching, err := m.Matching.Compact()
	if err != nil {
		return nil, err
	}
	state, err := json.Marshal(m.State)
	if err != nil {
		return nil, err
	}
	out := append(matching[:len(matching)-1:len(matching)-1], `,"impact_state":`...)
	return append(append(out, state...), '}'), nil
}

// ErrNoState means a stored manifest was kept before its state was: it
// must be uploaded again for an impact analysis.
var ErrNoState = errors.New("the stored manifest was uploaded before this server kept what impact analysis compares; upload it again (PUT …/manifest/)")

// LoadStored reads a manifest that Compact encoded.
func LoadStored(b []byte) (*Manifest, error) {
	if !bytes.HasPrefix(b, []byte(`{"dbtexposures_manifest":`)) {
		return Load(bytes.NewReader(b)) // kept whole, as early versions did
	}
	matching, err := exposures.LoadStored(b)
	if err != nil {
		return nil, err
	}
	var st struct {
		State *State `json:"impact_state"`
	}
	if !bytes.Contains(b, []byte(`"impact_state":`)) {
		return nil, ErrNoState
	}
	if err := json.Unmarshal(b, &st); err != nil || st.State == nil {
		return nil, fmt.Errorf("the stored manifest's state cannot be read (%v); upload the manifest again", err)
	}
	return &Manifest{State: st.State, Matching: matching}, nil
}

// LoadFile reads a manifest.json from disk, naming the file in errors.
func LoadFile(path string) (*Manifest, error) { return exposures.LoadFile(path, Load) }

func (st *State) readMacros(dec *json.Decoder) error {
	return exposures.ReadEntries(dec, func(id string) error {
		var m rawMacro
		if err := dec.Decode(&m); err != nil {
			return fmt.Errorf("manifest macro %s is not valid JSON: %w", id, err)
		}
		st.Macros[id] = &Macro{SQL: fingerprint(m.MacroSQL), Macros: m.DependsOn.Macros}
		return nil
	})
}

// add keeps a node a dashboard can be downstream of.
func (st *State) add(id string, n *rawNode) {
	if !exposures.Readable(n.ResourceType) {
		return
	}
	node := &Node{ResourceType: n.ResourceType, FQN: n.FQN, Body: fingerprint(n.RawCode),
		Description: fingerprint(n.Description), Parents: n.DependsOn.Nodes, Macros: n.DependsOn.Macros}
	if n.ResourceType == "seed" {
		// A seed's raw_code is empty: dbt's SeedNode.same_body compares the
		// file's checksum (its kind and value) instead.
		node.Body = n.Checksum.Name + ":" + n.Checksum.Checksum
	}
	node.Config, node.Relation, node.Ref = n.comparedConfig()
	for _, k := range []string{"relation", "columns"} {
		if on, _ := n.Config.PersistDocs[k].(bool); on {
			node.PersistDocs = append(node.PersistDocs, k)
		}
	}
	if n.Contract != nil {
		node.Contract.Enforced = n.Contract.Enforced
		if n.Contract.Checksum != nil {
			node.Contract.Checksum = *n.Contract.Checksum
		}
	}
	node.Columns, node.ColumnDocs = n.columns()
	st.Nodes[id] = node
}

// configExcluded are the config keys dbt's config comparison leaves out:
// the relation's parts (compared as the relation), tags and group.
var configExcluded = map[string]bool{"alias": true, "schema": true, "database": true, "tags": true, "group": true}

// comparedConfig is the node's config fingerprint, its relation and its
// other compared properties, as dbt compares each kind of node.
func (n *rawNode) comparedConfig() (string, []string, map[string]string) {
	if n.ResourceType == "source" {
		db, schema := jsonText(n.Database), jsonText(n.Schema)
		if n.UnrenderedDatabase != nil {
			db = jsonText(*n.UnrenderedDatabase)
		}
		if n.UnrenderedSchema != nil {
			schema = jsonText(*n.UnrenderedSchema)
		}
		ref := map[string]string{"quoting": fingerprintJSON(n.Quoting), "freshness": fingerprintJSON([]any{n.Freshness, n.LoadedAtField}),
			"external": fingerprintJSON(n.External)}
		return fingerprintJSON(n.Unrendered), []string{db, schema, jsonText(n.Identifier)}, ref
	}
	kept := map[string]any{}
	for k, v := range n.Unrendered {
		if !configExcluded[k] {
			kept[k] = v
		}
	}
	relation := []string{jsonText(n.Unrendered["database"]), jsonText(n.Unrendered["schema"]), jsonText(n.Unrendered["alias"])}
	var ref map[string]string
	if n.ResourceType == "model" {
		ref = map[string]string{"latest_version": jsonText(n.LatestVersion), "access": jsonText(n.Access),
			"deprecation_date": jsonText(n.DeprecationDate)}
	}
	return fingerprintJSON(kept), relation, ref
}

// columns are the documented columns, sorted by name, and the fingerprint
// of their descriptions.
func (n *rawNode) columns() ([]Column, string) {
	cols := make([]Column, 0, len(n.Columns))
	docs := map[string]string{}
	for key, c := range n.Columns {
		if c.Name == "" {
			c.Name = key
		}
		cols = append(cols, Column{Name: c.Name, Type: c.DataType})
		docs[key] = c.Description
	}
	sort.Slice(cols, func(i, j int) bool { return cols[i].Name < cols[j].Name })
	return cols, fingerprintJSON(docs)
}

// fingerprint is a short, stable digest of s: states are compared across
// processes and stored, so it is a cryptographic hash, not a map's.
func fingerprint(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// fingerprintJSON digests v as JSON with its keys sorted, so that equal
// values compare equal whatever order the manifest wrote them in.
func fingerprintJSON(v any) string { return fingerprint(jsonText(v)) }

// jsonText is v as JSON; a missing value and null are both "null", as
// dbt's dict.get makes them.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// lower is s lower-cased, for column names.
func lower(s string) string { return strings.ToLower(s) }
