// Package emulator is an emulator of Tableau's REST API (JSON) and Metadata
// API (GraphQL) over an in-memory site loaded from a fixture, faithful to the
// wire format in internal/tableau/TABLEAU-WIRE.md, with fault injection. It is
// product code: `dbtexposures-server tableau-emulator` serves it for demos and
// users' CI, and tests start it through internal/tableau/tableautest.
package emulator

import (
	"fmt"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
)

// Fixture is a Tableau site as a JSON file.
type Fixture struct {
	Server struct {
		ProductVersion string `json:"product_version"`  // e.g. "2024.2.0"
		RESTAPIVersion string `json:"rest_api_version"` // e.g. "3.23"
	} `json:"server"`
	Site struct {
		ID         string `json:"id"`
		ContentURL string `json:"content_url"`
		Name       string `json:"name"`
	} `json:"site"`
	PersonalAccessToken struct {
		Name   string `json:"name"`
		Secret string `json:"secret"`
	} `json:"personal_access_token"`
	Users     []User            `json:"users"`
	Projects  []FixtureProject  `json:"projects"`
	Workbooks []FixtureWorkbook `json:"workbooks"`
	// Datasources are the site's published data sources, which workbooks use.
	Datasources []FixtureDatasource `json:"datasources,omitempty"`
}

// FixtureDatasource is a published data source; with HasExtracts its data is
// an extract that a refresh rebuilds.
type FixtureDatasource struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ProjectID   string `json:"project_id"`
	HasExtracts bool   `json:"has_extracts,omitempty"`
}

// User is a Tableau user.
type User struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Username string `json:"username"`
	Email    string `json:"email"`
}

// FixtureProject is a project; ParentID "" is the top level.
type FixtureProject struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	ParentID    string `json:"parent_id,omitempty"`
}

// FixtureWorkbook is a workbook and its lineage.
type FixtureWorkbook struct {
	ID             string         `json:"id"`
	Name           string         `json:"name"`
	Description    string         `json:"description,omitempty"`
	ProjectID      string         `json:"project_id"`
	OwnerID        string         `json:"owner_id"`
	Tags           []string       `json:"tags,omitempty"`
	CreatedAt      string         `json:"created_at,omitempty"`
	UpdatedAt      string         `json:"updated_at,omitempty"`
	UpstreamTables []FixtureTable `json:"upstream_tables,omitempty"`
	CustomSQL      []FixtureSQL   `json:"custom_sql,omitempty"`
	// UpstreamDatasources are the IDs of the published data sources it uses.
	UpstreamDatasources []string `json:"upstream_datasources,omitempty"`
	// EmbeddedExtracts: the workbook's own (embedded) data source is an extract.
	EmbeddedExtracts bool `json:"embedded_extracts,omitempty"`
}

// FixtureTable is a database table a workbook reads. Hidden tables come back
// as null items, as Tableau does for tables the user may not see.
type FixtureTable struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Schema         string `json:"schema"`
	Database       string `json:"database"`
	ConnectionType string `json:"connection_type"`
	FullName       string `json:"full_name,omitempty"`
	Hidden         bool   `json:"hidden,omitempty"`
}

// FixtureSQL is a custom SQL query a workbook runs.
type FixtureSQL struct {
	ID             string `json:"id"`
	Query          string `json:"query"`
	Database       string `json:"database"`
	ConnectionType string `json:"connection_type"`
}

// LoadFixture reads and checks a fixture file.
func LoadFixture(path string) (*Fixture, error) {
	var f Fixture
	if err := bi.ReadJSONFile(path, &f); err != nil {
		return nil, fmt.Errorf("fixture %w", err)
	}
	if err := f.Check(); err != nil {
		return nil, fmt.Errorf("fixture %s: %w", path, err)
	}
	return &f, nil
}

// Check reports the first inconsistency: missing IDs, unknown parents, owners or projects.
func (f *Fixture) Check() error {
	if f.Site.ID == "" || f.PersonalAccessToken.Name == "" || f.PersonalAccessToken.Secret == "" {
		return fmt.Errorf("site.id, personal_access_token.name and personal_access_token.secret are required")
	}
	projects := map[string]bool{}
	for _, p := range f.Projects {
		if p.ID == "" || projects[p.ID] {
			return fmt.Errorf("project %q: missing or duplicate id", p.Name)
		}
		projects[p.ID] = true
	}
	for _, p := range f.Projects {
		if p.ParentID != "" && !projects[p.ParentID] {
			return fmt.Errorf("project %q: unknown parent_id %q", p.Name, p.ParentID)
		}
	}
	users := map[string]bool{}
	for _, u := range f.Users {
		users[u.ID] = true
	}
	datasources := map[string]bool{}
	for _, d := range f.Datasources {
		if d.ID == "" || datasources[d.ID] || !projects[d.ProjectID] {
			return fmt.Errorf("datasource %q: missing or duplicate id, or unknown project_id %q", d.Name, d.ProjectID)
		}
		datasources[d.ID] = true
	}
	seen := map[string]bool{}
	for _, w := range f.Workbooks {
		for _, id := range w.UpstreamDatasources {
			if !datasources[id] {
				return fmt.Errorf("workbook %q: unknown upstream datasource %q", w.Name, id)
			}
		}
		if w.ID == "" || seen[w.ID] {
			return fmt.Errorf("workbook %q: missing or duplicate id", w.Name)
		}
		seen[w.ID] = true
		if !projects[w.ProjectID] {
			return fmt.Errorf("workbook %q: unknown project_id %q", w.Name, w.ProjectID)
		}
		if !users[w.OwnerID] {
			return fmt.Errorf("workbook %q: unknown owner_id %q", w.Name, w.OwnerID)
		}
	}
	if f.Server.RESTAPIVersion == "" {
		f.Server.RESTAPIVersion = "3.23"
	}
	if f.Server.ProductVersion == "" {
		f.Server.ProductVersion = "2024.2.0"
	}
	return nil
}
