package impact

import (
	"slices"
	"sort"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/exposures"
)

// The kinds of change, in dbt's words: new, and the six state:modified
// sub-selectors. fqn, ref (a model's latest_version, access or
// deprecation_date) and a source's quoting, freshness and external make a
// node state:modified in no sub-selector. deleted is a node dbt never
// selects; columns are the column changes dbt does not see; listed is a node
// named in an explicit list of changes.
const (
	KindNew                   = "new"
	KindDeleted               = "deleted"
	KindBody                  = "body"
	KindConfigs               = "configs"
	KindPersistedDescriptions = "persisted_descriptions"
	KindRelation              = "relation"
	KindMacros                = "macros"
	KindContract              = "contract"
	KindFQN                   = "fqn"
	KindColumns               = "columns"
	KindListed                = "listed"
)

// ChangedNode is a node that changed, with how.
type ChangedNode struct {
	UniqueID string         `json:"unique_id"`
	Kinds    []string       `json:"kinds"` // in the order of the constants above, then ref's keys
	Columns  []ColumnChange `json:"columns"`
}

// ColumnChange is a column removed (or renamed away), or retyped.
type ColumnChange struct {
	Column string `json:"column"`              // lower-cased
	Change string `json:"change"`              // "removed" or "retyped"
	From   string `json:"from_type,omitempty"` // data types, for retyped
	To     string `json:"to_type,omitempty"`
}

// compare is one node's change kinds, by dbt's rules; nil when the same.
func compare(old, cur *Node, macroChanged bool) []string {
	if old == nil {
		return []string{KindNew}
	}
	var kinds []string
	add := func(differs bool, kind string) {
		if differs {
			kinds = append(kinds, kind)
		}
	}
	add(cur.ResourceType != "source" && cur.Body != old.Body, KindBody)
	add(cur.Config != old.Config, KindConfigs)
	add(persistedDiffer(old, cur), KindPersistedDescriptions)
	add(!slices.Equal(cur.Relation, old.Relation), KindRelation)
	add(macroChanged, KindMacros)
	add(cur.ResourceType == "model" && contractDiffers(old.Contract, cur.Contract), KindContract)
	add(!slices.Equal(cur.FQN, old.FQN), KindFQN)
	for _, k := range sortedKeys(cur.Ref) {
		add(cur.Ref[k] != old.Ref[k], k)
	}
	return kinds
}

// persistedDiffer compares the descriptions dbt persists to the warehouse,
// by the pull request's persist_docs (a change of it is a config change).
func persistedDiffer(old, cur *Node) bool {
	if cur.ResourceType == "source" {
		return false
	}
	return (slices.Contains(cur.PersistDocs, "relation") && cur.Description != old.Description) ||
		(slices.Contains(cur.PersistDocs, "columns") && cur.ColumnDocs != old.ColumnDocs)
}

// contractDiffers is dbt's same_contract, negated: enforcing a contract is a
// change, and so is any change of an enforced one's checksum.
func contractDiffers(old, cur Contract) bool {
	switch {
	case !old.Enforced && !cur.Enforced:
		return false
	case cur.Enforced && old.Enforced && cur.Checksum == old.Checksum:
		return false
	}
	return true
}

// changedMacros are the macros whose SQL changed, and those added or removed.
func changedMacros(base, head map[string]*Macro) map[string]bool {
	out := map[string]bool{}
	for id, m := range head {
		if old, ok := base[id]; !ok || old.SQL != m.SQL {
			out[id] = true
		}
	}
	for id := range base {
		if _, ok := head[id]; !ok {
			out[id] = true
		}
	}
	return out
}

// macroReach says whether a node depends, through any chain of macros, on a
// changed macro; a macro it calls that no longer exists counts as changed.
type macroReach struct {
	changed map[string]bool
	macros  map[string]*Macro
	memo    map[string]bool
}

func (r *macroReach) any(ids []string) bool {
	for _, id := range ids {
		if r.reaches(id) {
			return true
		}
	}
	return false
}

func (r *macroReach) reaches(id string) bool {
	if v, ok := r.memo[id]; ok {
		return v
	}
	r.memo[id] = false // a cycle adds nothing
	m, ok := r.macros[id]
	v := r.changed[id] || !ok || r.any(m.Macros)
	r.memo[id] = v
	return v
}

// columnChanges compares a node's columns: from the catalogs when both have
// the node, else from the documented columns of both manifests.
func columnChanges(id string, old, cur *Node, baseCat, headCat *exposures.Catalog) []ColumnChange {
	before, after := catalogColumns(baseCat, id), catalogColumns(headCat, id)
	if before == nil || after == nil {
		before, after = documented(old), documented(cur)
	}
	if len(before) == 0 || len(after) == 0 {
		return nil // nothing known on one side: no claim
	}
	var out []ColumnChange
	for _, name := range sortedKeys(before) {
		now, ok := after[name]
		switch {
		case !ok:
			out = append(out, ColumnChange{Column: name, Change: "removed"})
		case before[name] != "" && now != "" && !strings.EqualFold(before[name], now):
			out = append(out, ColumnChange{Column: name, Change: "retyped", From: before[name], To: now})
		}
	}
	return out
}

func catalogColumns(c *exposures.Catalog, id string) map[string]string {
	if c == nil {
		return nil
	}
	cols, ok := c.Columns[id]
	if !ok {
		return nil
	}
	out := make(map[string]string, len(cols))
	for _, col := range cols {
		out[lower(col.Name)] = col.Type
	}
	return out
}

func documented(n *Node) map[string]string {
	out := make(map[string]string, len(n.Columns))
	for _, c := range n.Columns {
		out[lower(c.Name)] = c.Type
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
