package provider

import (
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
)

// path is an item's names from the top folder down, joined by "/":
// "Finance/Quarterly" for a folder, "Finance/Quarterly/Board pack" for a
// dashboard in it. Names repeat across folders; paths tell them apart.
func (t *collectionsTree) path(id string) string {
	var names []string
	seen := map[string]bool{}
	for id != "" && !seen[id] { // a server that repeats a folder cannot make us loop
		seen[id] = true
		it, ok := t.items[id]
		if !ok {
			break
		}
		names = append(names, it.Name)
		id = it.Parent
	}
	for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
		names[i], names[j] = names[j], names[i]
	}
	return strings.Join(names, "/")
}

// treeOf is a tool's tree as the provider's own discovery read it, indexed
// like a connection's collections.
func treeOf(tool string, t *bi.Tree) *collectionsTree {
	out := &collectionsTree{items: make(map[string]dbtcloud.TreeItem, len(t.Folders)+len(t.Dashboards)), tool: tool}
	add := func(parent, id, name string, typ dbtcloud.ItemType) {
		out.items[id] = dbtcloud.TreeItem{WatchSelectionItem: dbtcloud.WatchSelectionItem{Identifier: id, Name: name, Type: typ}, Parent: parent}
	}
	for parent, ids := range t.Children {
		for _, id := range ids {
			add(parent, id, t.Folders[id], dbtcloud.ItemFolder)
		}
	}
	for parent, ids := range t.Contents {
		for _, id := range ids {
			add(parent, id, t.Dashboards[id], dbtcloud.ItemDashboard)
		}
	}
	return out
}
