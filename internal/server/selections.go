package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
)

// answerTool answers a BI tool's failure with its status and message.
func (s *Server) answerTool(w http.ResponseWriter, r *http.Request, err error) {
	var tf *toolFailure
	if errors.As(err, &tf) {
		s.log.Warn("BI tool failure", "path", r.URL.Path, "status", tf.status, "error", tf.msg)
		writeError(w, tf.status, tf.msg)
		return
	}
	s.internal(w, r, err)
}

// listCollections answers one level of the BI tool's tree: Tableau projects or
// Power BI workspaces as folders, then workbooks or reports as dashboards, each
// with whether the integration watches it.
func (s *Server) listCollections(w http.ResponseWriter, r *http.Request) {
	in, ok := s.loadIntegration(w, r)
	if !ok {
		return
	}
	parent := r.PathValue("collection_id")
	if parent == "" {
		parent = r.URL.Query().Get("collection_id")
	}
	read := s.bi.tree
	if parent == "" {
		read = s.bi.top
	}
	tree, err := read(r.Context(), in)
	if err != nil {
		s.answerTool(w, r, err)
		return
	}
	if _, known := tree.Folders[parent]; parent != "" && !known {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Collection %q is not a folder of %s.", parent, s.where(in)))
		return
	}
	watches, err := s.store.Watches(r.Context(), in.ID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	items := []dbtcloud.WatchSelectionItem{}
	for _, id := range tree.Children[parent] {
		_, watching := watches[id]
		items = append(items, dbtcloud.WatchSelectionItem{Identifier: id, Name: tree.Folders[id], Type: dbtcloud.ItemFolder, Watching: watching})
	}
	if parent != "" {
		for _, id := range tree.Contents[parent] {
			_, watching := watches[id]
			items = append(items, dbtcloud.WatchSelectionItem{Identifier: id, Name: tree.Dashboards[id], Type: dbtcloud.ItemDashboard, Watching: watching})
		}
	}
	writeList(w, []any{map[string]any{"collections": items}}, len(items), len(items))
}

// where names the integration's site or tenant, for messages.
func (s *Server) where(in *store.Integration) string {
	if conn, ok := bi.Lookup(in.Name); ok {
		return "the " + conn.Describe(bi.Config(in.Config))
	}
	return fmt.Sprintf("integration %d", in.ID)
}

// item names the folder or dashboard with this identifier, and its type; the
// type is "" when the tool has no such item.
func item(t *bi.Tree, id string) (string, string) {
	if name, ok := t.Folders[id]; ok {
		return name, store.WatchFolder
	}
	if name, ok := t.Dashboards[id]; ok {
		return name, store.WatchDashboard
	}
	return "", ""
}

// postSelections starts and stops watching items. Added identifiers must exist
// in the BI tool (read afresh, since the selection is changing); removals need
// not, so that a workbook deleted in Tableau can still be unwatched.
func (s *Server) postSelections(w http.ResponseWriter, r *http.Request) {
	in, ok := s.loadIntegration(w, r)
	if !ok {
		return
	}
	add, remove, err := decodeSelection(r)
	if s.answerBad(w, r, err) {
		return
	}
	if len(add) > 0 {
		tree, err := s.bi.freshTree(r.Context(), in)
		if err != nil {
			s.answerTool(w, r, err)
			return
		}
		var unknown, mistyped []string
		for i, a := range add {
			name, actual := item(tree, a.Identifier)
			switch {
			case actual == "":
				unknown = append(unknown, a.Identifier)
			case a.Type != actual:
				mistyped = append(mistyped, fmt.Sprintf("%s is a %s", a.Identifier, actual))
			default:
				add[i].Name = name // store the tool's current name
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			writeError(w, http.StatusBadRequest, fmt.Sprintf("Invalid field \"to_add\": these identifiers are not folders or dashboards of %s: %s. List what exists with GET .../collections/.",
				s.where(in), strings.Join(unknown, ", ")))
			return
		}
		if len(mistyped) > 0 {
			writeError(w, http.StatusBadRequest, "Invalid field \"to_add\": wrong type for "+strings.Join(mistyped, "; ")+".")
			return
		}
	}
	added, removed, err := s.store.ChangeWatches(r.Context(), in.ID, add, remove)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if added+removed > 0 {
		s.triggerSync(in.AccountID, in.ProjectID) // the exposures follow the selection
	}
	// The spec's response is {added, removed} itself; the same numbers under
	// "data" with a status serve clients that expect dbt Cloud's envelope.
	counts := map[string]int{"added": added, "removed": removed}
	writeJSON(w, http.StatusOK, map[string]any{"added": added, "removed": removed, "data": counts,
		"status": statusJSON{Code: 200, IsSuccess: true}})
}

func decodeSelection(r *http.Request) ([]store.Watch, []string, error) {
	m, err := readObject(r, "", "to_add", "to_remove")
	if err != nil {
		return nil, nil, err
	}
	var add []store.Watch
	if raw, ok := m["to_add"]; ok && string(raw) != "null" {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, nil, badField("to_add", "must be a list of {identifier, name, type}")
		}
		for i, it := range items {
			prefix := fmt.Sprintf("to_add[%d].", i)
			obj, err := objectFields(it, prefix, "identifier", "name", "type", "watching")
			if err != nil {
				return nil, nil, err
			}
			id, _, err := stringField(obj, prefix+"identifier", "identifier")
			if err != nil {
				return nil, nil, err
			}
			name, _, err := stringField(obj, prefix+"name", "name")
			if err != nil {
				return nil, nil, err
			}
			typ, _, err := stringField(obj, prefix+"type", "type")
			if err != nil {
				return nil, nil, err
			}
			if strings.TrimSpace(id) == "" {
				return nil, nil, badField(prefix+"identifier", "is required")
			}
			if !dbtcloud.ItemType(typ).Valid() {
				return nil, nil, badField(prefix+"type", "must be %q or %q, got %q", dbtcloud.ItemFolder, dbtcloud.ItemDashboard, typ)
			}
			add = append(add, store.Watch{Identifier: id, Name: name, Type: typ})
		}
	}
	var remove []string
	if raw, ok := m["to_remove"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &remove); err != nil {
			return nil, nil, badField("to_remove", "must be a list of identifiers (strings)")
		}
	}
	return add, remove, nil
}
