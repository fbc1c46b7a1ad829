package store

import (
	"context"
	"database/sql"
	"errors"
)

// PutManifest stores a project's dbt manifest, replacing the previous one.
func (s *Store) PutManifest(ctx context.Context, projectID int64, manifest []byte) (string, error) {
	return s.putArtifact(ctx, "project_manifests", "manifest", projectID, manifest)
}

// Manifest returns a project's manifest, or ErrNotFound.
func (s *Store) Manifest(ctx context.Context, projectID int64) ([]byte, error) {
	return s.artifact(ctx, "project_manifests", "manifest", projectID)
}

// PutCatalog stores a project's dbt catalog (its nodes' warehouse columns),
// replacing the previous one.
func (s *Store) PutCatalog(ctx context.Context, projectID int64, catalog []byte) (string, error) {
	return s.putArtifact(ctx, "project_catalogs", "catalog", projectID, catalog)
}

// Catalog returns a project's catalog, or ErrNotFound.
func (s *Store) Catalog(ctx context.Context, projectID int64) ([]byte, error) {
	return s.artifact(ctx, "project_catalogs", "catalog", projectID)
}

// putArtifact stores a project's dbt artifact in its table (one row per
// project, the artifact in column), replacing the previous one. table and
// column are this file's constants, never input.
func (s *Store) putArtifact(ctx context.Context, table, column string, projectID int64, b []byte) (string, error) {
	ts := Now()
	_, err := s.db.ExecContext(ctx, `INSERT INTO `+table+`(project_id, `+column+`, uploaded_at) VALUES(?, ?, ?)
		ON CONFLICT(project_id) DO UPDATE SET `+column+` = excluded.`+column+`, uploaded_at = excluded.uploaded_at`, projectID, b, ts)
	return ts, err
}

// artifact returns a project's dbt artifact, or ErrNotFound.
func (s *Store) artifact(ctx context.Context, table, column string, projectID int64) ([]byte, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT `+column+` FROM `+table+` WHERE project_id = ?`, projectID).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return b, err
}

// ProjectsWithManifest lists (account, project) pairs that can be synced.
func (s *Store) ProjectsWithManifest(ctx context.Context) ([][2]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT p.account_id, p.id FROM projects p JOIN project_manifests m ON m.project_id = p.id ORDER BY p.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]int64
	for rows.Next() {
		var a, p int64
		if err := rows.Scan(&a, &p); err != nil {
			return nil, err
		}
		out = append(out, [2]int64{a, p})
	}
	return out, rows.Err()
}

// ExposureRecord is a project's last sync.
type ExposureRecord struct {
	ExposuresJSON string
	UnmatchedJSON string
	YAML          string
	SyncedAt      string
	AttemptedAt   string
	Error         string
}

// SaveSync records a successful sync.
func (s *Store) SaveSync(ctx context.Context, projectID int64, r ExposureRecord) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO project_exposures(project_id, exposures_json, unmatched_json, yaml, synced_at, attempted_at, error)
		VALUES(?, ?, ?, ?, ?, ?, '') ON CONFLICT(project_id) DO UPDATE SET exposures_json = excluded.exposures_json,
		unmatched_json = excluded.unmatched_json, yaml = excluded.yaml, synced_at = excluded.synced_at,
		attempted_at = excluded.attempted_at, error = ''`, projectID, r.ExposuresJSON, r.UnmatchedJSON, r.YAML, r.SyncedAt, r.SyncedAt)
	return err
}

// SaveSyncError records a failed sync and keeps the previous exposures.
func (s *Store) SaveSyncError(ctx context.Context, projectID int64, msg string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO project_exposures(project_id, attempted_at, error) VALUES(?, ?, ?)
		ON CONFLICT(project_id) DO UPDATE SET attempted_at = excluded.attempted_at, error = excluded.error`, projectID, Now(), msg)
	return err
}

// Exposures returns a project's last sync, or ErrNotFound if it never ran;
// its YAML only when asked for, as a large project's is megabytes.
func (s *Store) Exposures(ctx context.Context, projectID int64, withYAML bool) (*ExposureRecord, error) {
	var r ExposureRecord
	yaml := "''"
	if withYAML {
		yaml = "yaml"
	}
	err := s.db.QueryRowContext(ctx, `SELECT exposures_json, unmatched_json, `+yaml+`, synced_at, attempted_at, error FROM project_exposures WHERE project_id = ?`, projectID).
		Scan(&r.ExposuresJSON, &r.UnmatchedJSON, &r.YAML, &r.SyncedAt, &r.AttemptedAt, &r.Error)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &r, err
}
