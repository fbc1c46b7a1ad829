package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/exposures"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/impact"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
)

// putManifest stores the project's dbt manifest (target/manifest.json) and
// syncs its exposures. An extension of ours: dbt Cloud builds its own.
// An upload that is too large costs no more than a copy buffer: a declared
// length over the limit is refused unread, and the body is spooled to a
// temporary file, never to memory, until it is known to fit.
func (s *Server) putManifest(w http.ResponseWriter, r *http.Request) {
	s.upload(w, r, artifact{name: "manifest", put: s.store.PutManifest, parse: func(body io.Reader) ([]byte, map[string]any, error) {
		m, err := impact.Load(body)
		if err != nil {
			return nil, nil, err
		}
		compact, err := m.Compact() // with what impact analysis compares
		return compact, map[string]any{"schema_version": m.Matching.SchemaVersion, "nodes": len(m.Matching.Nodes)}, err
	}})
}

// putCatalog stores the project's dbt catalog (target/catalog.json, from
// dbt docs generate): its nodes' warehouse columns, which column matching
// prefers to the manifest's documented ones. The project is synced again.
func (s *Server) putCatalog(w http.ResponseWriter, r *http.Request) {
	s.upload(w, r, artifact{name: "catalog", put: s.store.PutCatalog, parse: func(body io.Reader) ([]byte, map[string]any, error) {
		c, err := exposures.LoadCatalog(body)
		if err != nil {
			return nil, nil, err
		}
		compact, err := c.Compact()
		return compact, map[string]any{"nodes": len(c.Columns)}, err
	}})
}

// artifact is a dbt artifact a project uploads: its name in answers, how it
// is read (as a stream) and kept.
type artifact struct {
	name  string
	parse func(io.Reader) (compact []byte, summary map[string]any, err error)
	put   func(ctx context.Context, projectID int64, compact []byte) (string, error)
}

// upload spools an artifact to disk within MaxManifestBytes, parses it as a
// stream (bad input is a 400 that names the problem), keeps it and syncs.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, a artifact) {
	pid, _ := pathID(w, r, "project_id")
	spool, release, ok := s.spoolHeavy(w, r, a.name)
	if !ok {
		return
	}
	defer release()
	defer spool.Close()
	compact, summary, err := a.parse(spool)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Invalid "+a.name+": "+err.Error())
		return
	}
	ts, err := a.put(r.Context(), pid, compact)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.triggerSync(tokenAccount(r), pid)
	summary["project_id"], summary["uploaded_at"] = pid, ts
	writeData(w, summary)
}

// spoolHeavy takes one of the account's heavy-work slots and spools the
// body within MaxManifestBytes; when it cannot, it has answered. The caller
// releases the slot and closes the file.
func (s *Server) spoolHeavy(w http.ResponseWriter, r *http.Request, name string) (*os.File, func(), bool) {
	if r.ContentLength > MaxManifestBytes {
		s.tooLarge(w, name)
		return nil, nil, false
	}
	release, ok := s.tryHeavy(r.Context(), tokenAccount(r))
	if !ok {
		s.busy(w)
		return nil, nil, false
	}
	spool, err := spoolUpload(r.Body)
	if err != nil {
		release()
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.tooLarge(w, name)
			return nil, nil, false
		}
		s.internal(w, r, err)
		return nil, nil, false
	}
	return spool, release, true
}

func (s *Server) tooLarge(w http.ResponseWriter, name string) {
	writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("The %s is larger than %d MiB, the most this server accepts.", name, MaxManifestBytes>>20))
}

// busy answers a request for heavy work while the account already runs its share.
func (s *Server) busy(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	writeError(w, http.StatusTooManyRequests, fmt.Sprintf("This account already runs %d manifest uploads or exposure syncs; try again in a few seconds.", heavyPerAccount))
}

// spoolUpload copies the body to a temporary file, which it returns rewound
// for a streaming parse, and removed (it is already unlinked). A body over the
// limit fails while copying, with nothing held.
func spoolUpload(body io.Reader) (*os.File, error) {
	f, err := os.CreateTemp("", "dbtexposures-upload-*.json")
	if err != nil {
		return nil, err
	}
	_ = os.Remove(f.Name()) // the open file stays readable; nothing is left behind
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// getExposures answers the last sync: JSON in the envelope, or ?format=yaml.
func (s *Server) getExposures(w http.ResponseWriter, r *http.Request) {
	pid, _ := pathID(w, r, "project_id")
	rec, err := s.store.Exposures(r.Context(), pid, r.URL.Query().Get("format") == "yaml")
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Project %d has no exposures yet: PUT its dbt manifest to .../projects/%d/manifest/ and select BI content through a lineage integration.", pid, pid))
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
		writeExposures(w, pid, rec)
	default:
		writeError(w, http.StatusBadRequest, "Query parameter format must be json or yaml.")
	}
}

// postSync syncs now and answers the result.
func (s *Server) postSync(w http.ResponseWriter, r *http.Request) {
	pid, _ := pathID(w, r, "project_id")
	if _, err := s.store.RequestSync(r.Context(), pid); err != nil {
		s.internal(w, r, err)
		return
	}
	release, ok := s.tryHeavy(r.Context(), tokenAccount(r))
	if !ok {
		s.busy(w)
		return
	}
	_ = s.syncProject(r.Context(), tokenAccount(r), pid) // a failure is recorded and shown below
	release()
	rec, err := s.store.Exposures(r.Context(), pid, false)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeExposures(w, pid, rec)
}

// writeExposures answers a project's last sync in dbt Cloud's envelope,
// with the stored JSON lists written as they are: decoding and encoding them
// again held every exposure of a large project in memory, twice, for each
// request.
func writeExposures(w http.ResponseWriter, pid int64, rec *store.ExposureRecord) {
	status, _ := json.Marshal(statusJSON{Code: http.StatusOK, IsSuccess: true})
	head, _ := json.Marshal(struct {
		ProjectID   int64 `json:"project_id"`
		SyncedAt    any   `json:"synced_at"`
		AttemptedAt any   `json:"attempted_at"`
		SyncError   any   `json:"sync_error"`
	}{pid, nullable(rec.SyncedAt), nullable(rec.AttemptedAt), nullable(rec.Error)})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	for _, part := range []string{`{"status":`, string(status), `,"data":`, string(head[:len(head)-1]),
		`,"exposures":`, storedList(rec.ExposuresJSON), `,"unmatched_tables":`, storedList(rec.UnmatchedJSON), "}}\n"} {
		if _, err := io.WriteString(w, part); err != nil {
			return // the client left
		}
	}
}

// storedList is a JSON list the sync stored; "[]" before any sync.
func storedList(s string) string {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return "[]"
	}
	return s
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
