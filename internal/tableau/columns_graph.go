package tableau

import (
	"hash/fnv"
	"sort"
)

// fieldGraph holds the fields read so far. A large site has hundreds of
// thousands, so each is a few integers: the columns they read are kept once
// each (and resolved once, custom SQL included), and fields are numbered.
type fieldGraph struct {
	index map[string]int32 // field ID -> node
	nodes []fieldNode
	byKey map[uint64]int32 // hash of data source and name -> node, for references without an ID
	cols  *columnTable     // the columns fields read
}

// fieldNode is one field: read once its answer came, asked once requested.
type fieldNode struct {
	read, requested, calculated bool
	columns                     []int32 // into columns
	upstream                    []fieldRef
}

// fieldRef points at a field by node, or, for a reference without an ID,
// by the hash of its data source and name (resolved when walked).
type fieldRef struct {
	node int32 // -1 when by key
	key  uint64
}

func newFieldGraph(cols *columnTable) *fieldGraph {
	return &fieldGraph{index: map[string]int32{}, byKey: map[uint64]int32{}, cols: cols}
}

// keyHash names a field by data source and name, as upstream fields are
// named in answers that carry no ID.
func keyHash(r *gqlFieldRef) uint64 {
	h := fnv.New64a()
	if r.Datasource != nil {
		h.Write([]byte(r.Datasource.ID))
	}
	h.Write([]byte{0})
	h.Write([]byte(r.Name))
	return h.Sum64()
}

// node numbers a field ID, once.
func (g *fieldGraph) node(id string) int32 {
	if n, ok := g.index[id]; ok {
		return n
	}
	n := int32(len(g.nodes))
	g.index[id] = n
	g.nodes = append(g.nodes, fieldNode{})
	return n
}

// refs numbers references, noting each named one by data source and name.
func (g *fieldGraph) refs(list []*gqlFieldRef) []fieldRef {
	out := make([]fieldRef, 0, len(list))
	for _, r := range list {
		if r == nil {
			continue
		}
		if r.ID == "" {
			out = append(out, fieldRef{node: -1, key: keyHash(r)})
			continue
		}
		n := g.node(r.ID)
		if r.Name != "" {
			g.byKey[keyHash(r)] = n
		}
		out = append(out, fieldRef{node: n})
	}
	return out
}

// unread are the IDs of fields named but not yet asked for, sorted.
func (g *fieldGraph) unread() []string {
	var ids []string
	for id, n := range g.index {
		if node := &g.nodes[n]; !node.read && !node.requested {
			node.requested = true
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// add keeps a field's lineage one step up.
func (g *fieldGraph) add(f *gqlField) {
	n := g.node(f.ID)
	if f.Name != "" {
		g.byKey[keyHash(&f.gqlFieldRef)] = n
	}
	up := append([]*gqlFieldRef(nil), f.UpstreamFields...)
	if f.RemoteField != nil {
		up = append(up, f.RemoteField)
	}
	node := fieldNode{read: true, calculated: f.calculated(), upstream: g.refs(up)}
	for _, col := range f.UpstreamColumns {
		if col != nil {
			node.columns = append(node.columns, g.cols.add(col))
		}
	}
	g.nodes[n] = node
}

// lookup finds a referenced field's node; ok is false for one never read.
func (g *fieldGraph) lookup(r fieldRef) (int32, bool) {
	n := r.node
	if n < 0 {
		var ok bool
		if n, ok = g.byKey[r.key]; !ok {
			return 0, false
		}
	}
	return n, g.nodes[n].read
}

// reach is a column a field reads, and whether only through calculations.
type reach struct {
	column  int32
	derived bool
}

// visit is a field reached, as it is or through a calculation: the same
// field may be walked once each way.
type visit struct {
	node    int32
	derived bool
}

// reaches walks a field's lineage up to its columns: its own, its upstream
// fields' (derived when it is calculated) and its published field's.
func (g *fieldGraph) reaches(r fieldRef, derived bool, seen map[visit]bool, out *[]reach) {
	n, ok := g.lookup(r)
	v := visit{node: n, derived: derived}
	if !ok || seen[v] {
		return
	}
	seen[v] = true
	node := &g.nodes[n]
	derived = derived || node.calculated
	for _, c := range node.columns {
		*out = append(*out, reach{column: c, derived: derived})
	}
	for _, up := range node.upstream {
		g.reaches(up, derived, seen, out)
	}
}

// reachAll walks each of a workbook's sheet fields up to its columns.
func (g *fieldGraph) reachAll(refs []fieldRef) []reach {
	var reached []reach
	seen := map[visit]bool{}
	for _, r := range refs {
		g.reaches(r, false, seen, &reached)
	}
	return reached
}
