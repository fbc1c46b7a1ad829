package exposures

import (
	"strings"
	"sync"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/sqlextract"
)

// joinKey joins lower-cased parts; empty when any part is empty.
func joinKey(parts ...string) string {
	for i, p := range parts {
		if p == "" {
			return ""
		}
		parts[i] = strings.ToLower(p)
	}
	return strings.Join(parts, ".")
}

// Index finds dbt nodes by their warehouse names, case-insensitively.
type Index struct {
	full    map[string][]*Node // database.schema.identifier
	partial map[string][]*Node // schema.identifier
	names   map[string]int     // model name -> how many packages define it
	catalog *Catalog           // the warehouse's columns, when given

	mu      sync.Mutex
	columns map[string]map[string]bool // columnsOf, by unique ID: thousands of dashboards read one node
}

// WithCatalog gives the index the warehouse's columns of each node, which
// win over the manifest's documented ones.
func (ix *Index) WithCatalog(c *Catalog) *Index {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.catalog, ix.columns = c, nil
	return ix
}

// columnsOf are a node's known columns, lower-cased: the catalog's when it
// has the node, else the documented ones; nil when neither knows them.
func (ix *Index) columnsOf(n *Node) map[string]bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if cols, ok := ix.columns[n.UniqueID]; ok {
		return cols
	}
	if ix.columns == nil {
		ix.columns = map[string]map[string]bool{}
	}
	cols := ix.readColumns(n)
	ix.columns[n.UniqueID] = cols
	return cols
}

func (ix *Index) readColumns(n *Node) map[string]bool {
	var names []string
	if ix.catalog != nil {
		for _, c := range ix.catalog.Columns[n.UniqueID] {
			names = append(names, c.Name)
		}
	}
	if len(names) == 0 {
		names = n.Columns
	}
	if len(names) == 0 {
		return nil
	}
	out := make(map[string]bool, len(names))
	for _, name := range names {
		out[strings.ToLower(name)] = true
	}
	return out
}

// NewIndex indexes a manifest's nodes by relation name (quoting stripped) and
// by database, schema and alias/identifier.
func NewIndex(m *Manifest) *Index {
	ix := &Index{full: map[string][]*Node{}, partial: map[string][]*Node{}, names: map[string]int{}}
	for i := range m.Nodes {
		n := &m.Nodes[i]
		keys := map[string]bool{}
		if n.RelationName != "" {
			p := sqlextract.SplitName(n.RelationName)
			switch len(p) {
			case 3:
				keys[joinKey(p[0], p[1], p[2])] = true
				ix.addPartial(joinKey(p[1], p[2]), n)
			case 2:
				ix.addPartial(joinKey(p[0], p[1]), n)
			}
		}
		if k := joinKey(n.Database, n.Schema, n.Identifier); k != "" {
			keys[k] = true
		}
		if k := joinKey(n.Schema, n.Identifier); k != "" {
			ix.addPartial(k, n)
		}
		for k := range keys {
			ix.full[k] = appendUnique(ix.full[k], n)
		}
		if n.ResourceType != "source" {
			ix.names[n.Name]++
		}
	}
	return ix
}

func (ix *Index) addPartial(k string, n *Node) {
	if k != "" {
		ix.partial[k] = appendUnique(ix.partial[k], n)
	}
}

func appendUnique(list []*Node, n *Node) []*Node {
	for _, x := range list {
		if x == n {
			return list
		}
	}
	return append(list, n)
}

// Lookup finds the node for a table named by database, schema and name. With a
// database, only an exact three-part match counts; without one, a two-part
// match counts when it is unambiguous. Nothing is matched by substring.
func (ix *Index) Lookup(database, schema, name string) *Node {
	if schema == "" || name == "" {
		return nil
	}
	if database != "" {
		if c := ix.full[joinKey(database, schema, name)]; len(c) == 1 {
			return c[0]
		}
		return nil
	}
	if c := ix.partial[joinKey(schema, name)]; len(c) == 1 {
		return c[0]
	}
	return nil
}

// Qualify reports whether a model's name is defined in more than one package,
// so its ref must name the package.
func (ix *Index) Qualify(n *Node) bool { return n.ResourceType != "source" && ix.names[n.Name] > 1 }

// TableParts works out database, schema and name of a Tableau table, which may
// give its schema only inside fullName ([SCHEMA].[NAME]) or a dotted name.
func TableParts(database, schema, name, fullName string) (string, string, string) {
	if schema == "" {
		for _, candidate := range []string{fullName, name} {
			if p := sqlextract.SplitName(candidate); len(p) >= 2 && candidate != "" {
				if len(p) == 3 && database == "" {
					database = p[0]
				}
				return database, p[len(p)-2], p[len(p)-1]
			}
		}
	}
	if strings.ContainsAny(name, `"[`+"`") {
		if p := sqlextract.SplitName(name); len(p) > 0 {
			name = p[len(p)-1]
		}
	}
	return database, schema, name
}
