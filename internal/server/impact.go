package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/exposures"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/impact"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
)

// postImpact answers which dashboards a pull request's manifest breaks, by
// comparing it with the project's stored manifest and catalog and following
// the changes to the dashboards of the last sync. An extension of ours: dbt
// Core CI gets the answer with no BI credentials. Nothing is stored.
func (s *Server) postImpact(w http.ResponseWriter, r *http.Request) {
	pid, _ := pathID(w, r, "project_id")
	spool, release, ok := s.spoolHeavy(w, r, "pull request's manifest")
	if !ok {
		return
	}
	defer release()
	defer spool.Close()
	head, err := readImpactBody(spool)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Invalid impact request: "+err.Error())
		return
	}
	in, msg, err := s.impactBase(r.Context(), pid)
	switch {
	case err != nil:
		s.internal(w, r, err)
		return
	case msg != "":
		writeError(w, http.StatusConflict, msg)
		return
	}
	in.Head, in.HeadCatalog = head.manifest.State, head.catalog
	res, err := impact.Analyze(in)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Invalid impact request: "+err.Error())
		return
	}
	if r.URL.Query().Get("format") == "markdown" {
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		_, _ = io.WriteString(w, impact.Markdown(res, impact.MarkdownOptions{OwnerEmails: r.URL.Query().Get("include_owner_emails") == "true"}))
		return
	}
	writeData(w, res)
}

// impactBody is a pull request's manifest, and its catalog when sent.
type impactBody struct {
	manifest *impact.Manifest
	catalog  *exposures.Catalog
}

// readImpactBody reads a manifest.json, or {"manifest": …, "catalog": …},
// as a stream from the spooled body; its first key tells which.
func readImpactBody(f *os.File) (*impactBody, error) {
	first, err := firstKey(f)
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if first != "manifest" && first != "catalog" {
		m, err := impact.Load(f)
		return &impactBody{manifest: m}, err
	}
	dec := json.NewDecoder(bufio.NewReaderSize(f, 64<<10))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	body := &impactBody{}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("the body is not valid JSON: %w", err)
		}
		switch key {
		case "manifest":
			body.manifest, err = impact.LoadFrom(dec)
		case "catalog":
			body.catalog, err = exposures.LoadCatalogFrom(dec)
		default:
			err = fmt.Errorf("unknown field %q: send a manifest.json, or {\"manifest\": <manifest.json>, \"catalog\": <catalog.json>}", key)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	if body.manifest == nil {
		return nil, errors.New("the body has a catalog but no manifest: send {\"manifest\": <manifest.json>, \"catalog\": <catalog.json>}")
	}
	return body, nil
}

// firstKey is the first key of the JSON object a file holds.
func firstKey(f *os.File) (string, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(f, 4096))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", fmt.Errorf("the body is not a JSON object: send the pull request's manifest.json, or {\"manifest\": …, \"catalog\": …}")
	}
	tok, err := dec.Token()
	if err != nil {
		return "", fmt.Errorf("the body is not valid JSON: %w", err)
	}
	key, _ := tok.(string)
	return key, nil
}

// impactBase is what the pull request is compared with: the stored
// manifest and catalog, and the dashboards of the last sync. msg says why
// there is no base yet.
func (s *Server) impactBase(ctx context.Context, pid int64) (in impact.Input, msg string, err error) {
	raw, err := s.store.Manifest(ctx, pid)
	if errors.Is(err, store.ErrNotFound) {
		return in, "This project has no manifest to compare with: upload production's with PUT …/manifest/ first.", nil
	}
	if err != nil {
		return in, "", err
	}
	base, err := impact.LoadStored(raw)
	if errors.Is(err, impact.ErrNoState) {
		return in, "The project's manifest was uploaded before this server kept what impact analysis compares: upload it again with PUT …/manifest/.", nil
	}
	if err != nil {
		return in, "", err
	}
	in.Base = base.State
	if raw, err := s.store.Catalog(ctx, pid); err == nil {
		if in.BaseCatalog, err = exposures.LoadStoredCatalog(raw); err != nil {
			return in, "", err
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return in, "", err
	}
	in.Dashboards, err = s.syncedDashboards(ctx, pid)
	return in, "", err
}

// syncedExposure is what impact analysis reads of a synced exposure.
type syncedExposure struct {
	Label        string              `json:"label"`
	URL          string              `json:"url"`
	Owner        map[string]string   `json:"owner"`
	Tool         string              `json:"tool"`
	DependsOnIDs []string            `json:"depends_on_unique_ids"`
	DashboardID  string              `json:"dashboard_id"`
	Columns      map[string][]string `json:"referenced_columns"`
}

// syncedDashboards are the dashboards of the last sync, matched to the
// stored manifest's nodes; none before the first sync.
func (s *Server) syncedDashboards(ctx context.Context, pid int64) ([]impact.Dashboard, error) {
	rec, err := s.store.Exposures(ctx, pid, false)
	if errors.Is(err, store.ErrNotFound) || (err == nil && rec.ExposuresJSON == "") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var list []syncedExposure
	if err := json.Unmarshal([]byte(rec.ExposuresJSON), &list); err != nil {
		return nil, fmt.Errorf("stored exposures: %w", err)
	}
	out := make([]impact.Dashboard, len(list))
	for i, e := range list {
		d := impact.Dashboard{Tool: e.Tool, ToolLabel: e.Tool, ID: e.DashboardID, Name: e.Label, URL: e.URL,
			OwnerName: e.Owner["name"], OwnerEmail: e.Owner["email"], Nodes: e.DependsOnIDs, Columns: e.Columns}
		if c, ok := bi.Lookup(e.Tool); ok {
			d.ToolLabel, d.DatasetColumns = c.Tool().Label, c.Tool().DatasetColumns
		}
		out[i] = d
	}
	return out, nil
}
