package tableau

import (
	"context"
	"net/url"
	"sort"
	"strings"
	"unique"
)

// Table is a warehouse table a workbook reads.
type Table struct {
	Database       string
	Schema         string
	Name           string
	FullName       string
	ConnectionType string
}

// CustomSQL is a custom SQL query a workbook runs.
type CustomSQL struct {
	Query          string
	Database       string
	ConnectionType string
}

// Extract is what an extract refresh of a workbook targets: a published data
// source with extracts it uses, or its own embedded extracts.
type Extract struct {
	Type string // ExtractDatasource or ExtractWorkbook
	ID   string // the data source's or the workbook's LUID
	Name string
}

// Workbook is a workbook with its lineage.
type Workbook struct {
	ID             string // LUID
	Name           string
	Description    string
	ProjectID      string
	ProjectName    string
	ProjectPath    string
	OwnerName      string
	OwnerEmail     string
	URL            string
	UpdatedAt      string
	Tags           []string
	UpstreamTables []Table
	CustomSQL      []CustomSQL
	Extracts       []Extract // what refreshing its data takes, data sources first
	// Columns and UnresolvedColumns are what its sheets use, when read
	// (AttachColumns); nil otherwise.
	Columns           []UsedColumn
	UnresolvedColumns []UnresolvedColumn
}

// Site is everything discovery reads from one site.
type Site struct {
	Projects  []Project  // sorted by path
	Workbooks []Workbook // sorted by project path, then name
}

type gqlWorkbook struct {
	LUID           string `json:"luid"`
	Name           string `json:"name"`
	Description    string `json:"description"`
	VizportalURLID string `json:"vizportalUrlId"`
	ProjectLUID    string `json:"projectLuid"`
	ProjectName    string `json:"projectName"`
	UpdatedAt      string `json:"updatedAt"`
	Owner          *struct {
		Username string `json:"username"`
		Name     string `json:"name"`
		Email    string `json:"email"`
	} `json:"owner"`
	Tags []struct {
		Name string `json:"name"`
	} `json:"tags"`
	UpstreamTables []*struct { // items may be null
		Name           string `json:"name"`
		Schema         string `json:"schema"`
		FullName       string `json:"fullName"`
		ConnectionType string `json:"connectionType"`
		Database       *struct {
			Name           string `json:"name"`
			ConnectionType string `json:"connectionType"`
		} `json:"database"`
	} `json:"upstreamTables"`
	UpstreamDatasources []*struct { // items may be null
		LUID        string `json:"luid"`
		Name        string `json:"name"`
		HasExtracts bool   `json:"hasExtracts"`
	} `json:"upstreamDatasources"`
	EmbeddedDatasources []*struct {
		Name        string `json:"name"`
		HasExtracts bool   `json:"hasExtracts"`
	} `json:"embeddedDatasources"`
}

type gqlCustomSQL struct {
	Query          string `json:"query"`
	ConnectionType string `json:"connectionType"`
	Database       *struct {
		Name           string `json:"name"`
		ConnectionType string `json:"connectionType"`
	} `json:"database"`
	DownstreamWorkbooks []*struct {
		LUID string `json:"luid"`
	} `json:"downstreamWorkbooks"`
}

// Discover reads the site's projects (REST) and workbooks with their tables and
// custom SQL (Metadata API, paged): a fixed number of requests per page, none per workbook.
func (c *Client) Discover(ctx context.Context) (*Site, error) {
	projects, err := c.ListProjects(ctx)
	if err != nil {
		return nil, err
	}
	workbooks, err := c.ListWorkbooks(ctx, projects)
	if err != nil {
		return nil, err
	}
	return &Site{Projects: projects, Workbooks: workbooks}, nil
}

// ListWorkbooks reads every workbook with its lineage through the Metadata API;
// projects (from ListProjects) give each workbook its project path.
func (c *Client) ListWorkbooks(ctx context.Context, projects []Project) ([]Workbook, error) {
	byID := make(map[string]Project, len(projects))
	for _, p := range projects {
		byID[p.ID] = p
	}
	customSQL := map[string][]CustomSQL{}
	err := pageAll(ctx, c, CustomSQLQuery, "customSQLTablesConnection", func(page []gqlCustomSQL) error {
		for _, n := range page {
			cs := CustomSQL{Query: n.Query, ConnectionType: intern(n.ConnectionType)}
			if n.Database != nil {
				cs.Database = intern(n.Database.Name)
				if cs.ConnectionType == "" {
					cs.ConnectionType = intern(n.Database.ConnectionType)
				}
			}
			for _, w := range n.DownstreamWorkbooks {
				if w != nil {
					customSQL[w.LUID] = append(customSQL[w.LUID], cs)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	c.mu.Lock()
	server := *c.server
	c.mu.Unlock()
	var workbooks []Workbook
	err = pageAll(ctx, c, WorkbooksQuery, "workbooksConnection", func(page []gqlWorkbook) error {
		for i := range page {
			workbooks = append(workbooks, c.toWorkbook(&server, &page[i], byID, customSQL[page[i].LUID]))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(workbooks, func(i, j int) bool {
		if workbooks[i].ProjectPath != workbooks[j].ProjectPath {
			return workbooks[i].ProjectPath < workbooks[j].ProjectPath
		}
		if workbooks[i].Name != workbooks[j].Name {
			return workbooks[i].Name < workbooks[j].Name
		}
		return workbooks[i].ID < workbooks[j].ID
	})
	return workbooks, nil
}

// toWorkbook keeps what the data sources need of a decoded node, with the
// strings that repeat across workbooks (projects, owners, tags, databases,
// schemas, connection types) shared rather than held once per workbook.
func (c *Client) toWorkbook(server *url.URL, n *gqlWorkbook, projects map[string]Project, custom []CustomSQL) Workbook {
	w := Workbook{
		ID: n.LUID, Name: n.Name, Description: intern(n.Description), ProjectID: intern(n.ProjectLUID), ProjectName: intern(n.ProjectName),
		ProjectPath: intern(n.ProjectName), UpdatedAt: intern(n.UpdatedAt), URL: WorkbookURL(server, c.cfg.Site, n.VizportalURLID),
		Tags: make([]string, 0, len(n.Tags)), UpstreamTables: make([]Table, 0, len(n.UpstreamTables)), CustomSQL: []CustomSQL{},
	}
	if p, ok := projects[n.ProjectLUID]; ok {
		w.ProjectPath = p.Path
	}
	if n.Owner != nil {
		w.OwnerName, w.OwnerEmail = intern(n.Owner.Name), intern(n.Owner.Email)
		if w.OwnerName == "" {
			w.OwnerName = intern(n.Owner.Username)
		}
	}
	for _, t := range n.Tags {
		w.Tags = append(w.Tags, intern(t.Name))
	}
	sort.Strings(w.Tags)
	seen := map[string]bool{}
	for _, t := range n.UpstreamTables {
		if t == nil {
			continue
		}
		tb := Table{Schema: intern(t.Schema), Name: intern(t.Name), FullName: intern(t.FullName), ConnectionType: intern(t.ConnectionType)}
		if t.Database != nil {
			tb.Database = intern(t.Database.Name)
			if tb.ConnectionType == "" {
				tb.ConnectionType = intern(t.Database.ConnectionType)
			}
		}
		key := strings.Join([]string{tb.Database, tb.Schema, tb.Name}, "\x00")
		if seen[key] {
			continue
		}
		seen[key] = true
		w.UpstreamTables = append(w.UpstreamTables, tb)
	}
	sort.Slice(w.UpstreamTables, func(i, j int) bool {
		a, b := w.UpstreamTables[i], w.UpstreamTables[j]
		return a.Database+"."+a.Schema+"."+a.Name < b.Database+"."+b.Schema+"."+b.Name
	})
	if custom != nil {
		w.CustomSQL = custom
	}
	w.Extracts = extracts(n)
	return w
}

// extracts lists what refreshing a workbook's data takes: each published data
// source with extracts it uses, then its own embedded extracts, if any.
func extracts(n *gqlWorkbook) []Extract {
	out := []Extract{}
	for _, d := range n.UpstreamDatasources {
		if d != nil && d.HasExtracts {
			out = append(out, Extract{Type: ExtractDatasource, ID: d.LUID, Name: d.Name})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	for _, d := range n.EmbeddedDatasources {
		if d != nil && d.HasExtracts {
			return append(out, Extract{Type: ExtractWorkbook, ID: n.LUID, Name: n.Name})
		}
	}
	return out
}

// intern returns the one shared copy of s.
func intern(s string) string { return unique.Make(s).Value() }

// WorkbookURL is the workbook's page in Tableau's web UI.
func WorkbookURL(server *url.URL, site, vizportalID string) string {
	if vizportalID == "" {
		return ""
	}
	base := strings.TrimRight(server.String(), "/")
	if site == "" {
		return base + "/#/workbooks/" + vizportalID
	}
	return base + "/#/site/" + site + "/workbooks/" + vizportalID
}
