package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/exposures"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
)

// putManifest stores the project's dbt manifest (target/manifest.json) and
// syncs its exposures. An extension of ours: dbt Cloud builds its own.
func (s *Server) putManifest(w http.ResponseWriter, r *http.Request) {
	pid, _ := pathID(w, r, "project_id")
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("The manifest is larger than %d MiB.", MaxManifestBytes>>20))
			return
		}
		s.internal(w, r, err)
		return
	}
	m, err := exposures.LoadManifest(bytes.NewReader(raw))
	if err != nil {
		writeError(w, http.StatusBadRequest, "Invalid manifest: "+err.Error())
		return
	}
	ts, err := s.store.PutManifest(r.Context(), pid, raw)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.triggerSync(tokenAccount(r), pid)
	writeData(w, map[string]any{"project_id": pid, "schema_version": m.SchemaVersion, "nodes": len(m.Nodes), "uploaded_at": ts})
}

// getExposures answers the last sync: JSON in the envelope, or ?format=yaml.
func (s *Server) getExposures(w http.ResponseWriter, r *http.Request) {
	pid, _ := pathID(w, r, "project_id")
	rec, err := s.store.Exposures(r.Context(), pid)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("store.Project %d has no exposures yet: PUT its dbt manifest to .../projects/%d/manifest/ and select Tableau content.", pid, pid))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	switch r.URL.Query().Get("format") {
	case "yaml":
		if rec.SyncedAt == "" {
			writeError(w, http.StatusNotFound, "No sync has succeeded yet: "+rec.Error)
			return
		}
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		_, _ = io.WriteString(w, rec.YAML)
	case "", "json":
		writeData(w, exposuresBody(pid, rec))
	default:
		writeError(w, http.StatusBadRequest, "Query parameter format must be json or yaml.")
	}
}

// postSync syncs now and answers the result.
func (s *Server) postSync(w http.ResponseWriter, r *http.Request) {
	pid, _ := pathID(w, r, "project_id")
	_ = s.syncProject(r.Context(), tokenAccount(r), pid) // a failure is recorded and shown below
	rec, err := s.store.Exposures(r.Context(), pid)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeData(w, exposuresBody(pid, rec))
}

func exposuresBody(pid int64, rec *store.ExposureRecord) map[string]any {
	var ex, un []any
	_ = json.Unmarshal([]byte(rec.ExposuresJSON), &ex)
	_ = json.Unmarshal([]byte(rec.UnmatchedJSON), &un)
	if ex == nil {
		ex = []any{}
	}
	if un == nil {
		un = []any{}
	}
	return map[string]any{"project_id": pid, "synced_at": nullable(rec.SyncedAt), "attempted_at": nullable(rec.AttemptedAt),
		"sync_error": nullable(rec.Error), "exposures": ex, "unmatched_tables": un}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
