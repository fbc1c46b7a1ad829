// Package emulator is an emulator of Tableau's REST API (XML by default, JSON
// on request, as Tableau answers) and Metadata API (GraphQL) over an
// in-memory site loaded from a fixture, faithful to the wire format in
// internal/tableau/TABLEAU-WIRE.md and to Tableau's recorded answers, with
// fault injection. It is
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
	// Tables are database tables that fields read beside the workbooks'
	// upstream_tables (Tableau may leave a workbook's upstreamTables empty).
	Tables []FixtureTable `json:"tables,omitempty"`
	// Fields are the data source fields that sheets use, with their lineage.
	Fields []FixtureField `json:"fields,omitempty"`
	// Jobs are jobs the site ran before the emulator started, which the
	// jobs endpoints list beside the refreshes it runs.
	Jobs []FixtureJob `json:"jobs,omitempty"`
}

// FixtureJob is a finished or running job of the site's past.
type FixtureJob struct {
	ID          string `json:"id"`
	Type        string `json:"type"` // e.g. RefreshExtract, UpdateUploadedFile
	Progress    string `json:"progress"`
	CreatedAt   string `json:"created_at"`
	StartedAt   string `json:"started_at,omitempty"`
	UpdatedAt   string `json:"updated_at,omitempty"`
	CompletedAt string `json:"completed_at,omitempty"`
	// FinishCode is 0 (success), 1 (failed) or 2 (cancelled); "" while it runs.
	FinishCode string `json:"finish_code,omitempty"`
	Notes      string `json:"notes,omitempty"`
	// TargetType and TargetID name the data source or workbook it worked on.
	TargetType     string              `json:"target_type,omitempty"`
	TargetID       string              `json:"target_id,omitempty"`
	ConnectionLUID string              `json:"connection_luid,omitempty"`
	StatusNotes    []FixtureStatusNote `json:"status_notes,omitempty"`
}

// FixtureStatusNote is a note a job leaves on its status.
type FixtureStatusNote struct {
	Type  string `json:"type"`
	Value string `json:"value"`
	Text  string `json:"text"`
}

// FixtureConnection is a connection of a workbook or a data source: to a
// database, or to a published data source (DatasourceID).
type FixtureConnection struct {
	ID            string `json:"id,omitempty"`
	Type          string `json:"type"`
	ServerAddress string `json:"server_address,omitempty"`
	UserName      string `json:"user_name,omitempty"`
	EmbedPassword bool   `json:"embed_password,omitempty"`
	DatasourceID  string `json:"datasource_id,omitempty"`
}

// FixtureField is a data source field: a ColumnField reads columns, a
// CalculatedField is computed from other fields, a DatasourceField stands
// for a published data source's field (RemoteField).
type FixtureField struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	Type           string          `json:"type"`          // ColumnField, CalculatedField or DatasourceField
	DatasourceID   string          `json:"datasource_id"` // a published data source, or a workbook's ID for its embedded one
	Formula        string          `json:"formula,omitempty"`
	Columns        []FixtureColumn `json:"columns,omitempty"`
	UpstreamFields []string        `json:"upstream_fields,omitempty"`
	RemoteField    string          `json:"remote_field,omitempty"`
}

// FixtureColumn is a column a field reads: of a table (tables or a
// workbook's upstream_tables) or of a custom SQL query, by ID.
type FixtureColumn struct {
	TableID string `json:"table_id"`
	Name    string `json:"name"`
}

// FixtureSheet is a sheet of a workbook and the fields it shows. Tableau
// gives a sheet's upstreamColumns through all of them; ColumnsMissing
// stands for the sheets whose upstreamColumns Tableau leaves empty.
type FixtureSheet struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Fields         []string `json:"fields"`
	ColumnsMissing bool     `json:"columns_missing,omitempty"`
}

// FixtureDatasource is a published data source; with HasExtracts its data is
// an extract that a refresh rebuilds.
type FixtureDatasource struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ProjectID   string `json:"project_id"`
	HasExtracts bool   `json:"has_extracts,omitempty"`
	Description string `json:"description,omitempty"`
	// ContentURL is its URL name; by default its name without spaces.
	ContentURL string `json:"content_url,omitempty"`
	// Type is its connection type; dataengine (an extract) by default.
	Type        string              `json:"type,omitempty"`
	OwnerID     string              `json:"owner_id,omitempty"`
	Tags        []string            `json:"tags,omitempty"`
	CreatedAt   string              `json:"created_at,omitempty"`
	UpdatedAt   string              `json:"updated_at,omitempty"`
	Connections []FixtureConnection `json:"connections,omitempty"`
}

// User is a Tableau user.
type User struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Username string `json:"username"`
	Email    string `json:"email"`
	SiteRole string `json:"site_role,omitempty"` // Creator by default
	// LastLogin is when the user last signed in (RFC 3339), "" if never.
	LastLogin string `json:"last_login,omitempty"`
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
	// Sheets are its sheets, with the fields they use.
	Sheets []FixtureSheet `json:"sheets,omitempty"`
	// Connections are its connections; by default, those its upstream
	// data sources and tables imply.
	Connections []FixtureConnection `json:"connections,omitempty"`
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
	datasources, err := checkDatasources(f, projects, users)
	if err != nil {
		return err
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
	if err := f.checkFields(); err != nil {
		return err
	}
	if f.Server.RESTAPIVersion == "" {
		f.Server.RESTAPIVersion = "3.23"
	}
	if f.Server.ProductVersion == "" {
		f.Server.ProductVersion = "2024.2.0"
	}
	return nil
}

// checkDatasources reports a data source with a missing or duplicate ID, or
// an unknown project or owner; it returns their IDs.
func checkDatasources(f *Fixture, projects, users map[string]bool) (map[string]bool, error) {
	datasources := map[string]bool{}
	for _, d := range f.Datasources {
		if d.ID == "" || datasources[d.ID] || !projects[d.ProjectID] {
			return nil, fmt.Errorf("datasource %q: missing or duplicate id, or unknown project_id %q", d.Name, d.ProjectID)
		}
		if d.OwnerID != "" && !users[d.OwnerID] {
			return nil, fmt.Errorf("datasource %q: unknown owner_id %q", d.Name, d.OwnerID)
		}
		datasources[d.ID] = true
	}
	return datasources, checkConnections(f, datasources)
}

// checkConnections reports a connection or job that names an unknown data
// source or workbook.
func checkConnections(f *Fixture, datasources map[string]bool) error {
	workbooks := map[string]bool{}
	for _, w := range f.Workbooks {
		workbooks[w.ID] = true
		for _, c := range w.Connections {
			if c.DatasourceID != "" && !datasources[c.DatasourceID] {
				return fmt.Errorf("workbook %q: connection to unknown datasource %q", w.Name, c.DatasourceID)
			}
		}
	}
	for _, j := range f.Jobs {
		known := j.TargetType == "" || (j.TargetType == "datasource" && datasources[j.TargetID]) ||
			(j.TargetType == "workbook" && workbooks[j.TargetID])
		if j.ID == "" || !known {
			return fmt.Errorf("job %q: missing id, or unknown target %s %q", j.ID, j.TargetType, j.TargetID)
		}
	}
	return nil
}

// checkFields reports a sheet or field that names a field, table or query
// the fixture does not have.
func (f *Fixture) checkFields() error {
	fields, tables := map[string]bool{}, map[string]bool{}
	for _, fd := range f.Fields {
		fields[fd.ID] = true
	}
	for _, t := range f.Tables {
		tables[t.ID] = true
	}
	for _, w := range f.Workbooks {
		for _, t := range w.UpstreamTables {
			tables[t.ID] = true
		}
		for _, q := range w.CustomSQL {
			tables[q.ID] = true
		}
		for _, sh := range w.Sheets {
			for _, id := range sh.Fields {
				if !fields[id] {
					return fmt.Errorf("workbook %q, sheet %q: unknown field %q", w.Name, sh.Name, id)
				}
			}
		}
	}
	for _, fd := range f.Fields {
		for _, c := range fd.Columns {
			if !tables[c.TableID] {
				return fmt.Errorf("field %q: unknown table_id %q", fd.Name, c.TableID)
			}
		}
		for _, id := range append(append([]string(nil), fd.UpstreamFields...), fd.RemoteField) {
			if id != "" && !fields[id] {
				return fmt.Errorf("field %q: unknown field %q", fd.Name, id)
			}
		}
	}
	return nil
}
