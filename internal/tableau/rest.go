package tableau

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
)

// Project is a Tableau project (a folder), with its path computed from parents.
type Project struct {
	ID          string
	Name        string
	Description string
	ParentID    string
	Path        string // "Finance/Quarterly"
}

type pagination struct {
	PageNumber     string `json:"pageNumber"`
	PageSize       string `json:"pageSize"`
	TotalAvailable string `json:"totalAvailable"`
}

// maxRESTPages bounds a list walk against a server whose totals are wrong.
const maxRESTPages = 10000

// listREST walks a REST list with pageSize/pageNumber; decode gets each page's
// raw answer and returns how many items it held.
func (c *Client) listREST(ctx context.Context, resource string, query url.Values, decode func([]byte) (int, error)) error {
	seen := 0
	for page := 1; page <= maxRESTPages; page++ {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("pageSize", strconv.Itoa(restPageSize))
		q.Set("pageNumber", strconv.Itoa(page))
		resp, raw, err := c.authed(ctx, restAPI, func(s *session, v string, server *url.URL) (*http.Response, []byte, error) {
			u := server.JoinPath("api", v, "sites", s.siteID, resource)
			u.RawQuery = q.Encode()
			return c.send(ctx, http.MethodGet, u.String(), nil, s.token)
		})
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return c.apiError(resp.Request.URL.Host, resp.StatusCode, raw)
		}
		n, err := decode(raw)
		if err != nil {
			return fmt.Errorf("Tableau at %s: decoding %s page %d: %w", resp.Request.URL.Host, resource, page, err)
		}
		var p struct {
			Pagination pagination `json:"pagination"`
		}
		_ = json.Unmarshal(raw, &p)
		total, _ := strconv.Atoi(p.Pagination.TotalAvailable)
		seen += n
		if n == 0 || seen >= total {
			return nil
		}
	}
	return fmt.Errorf("Tableau: gave up listing %s after %d pages", resource, maxRESTPages)
}

// ListProjects lists every project of the site with its path, sorted by path.
func (c *Client) ListProjects(ctx context.Context) ([]Project, error) {
	var all []Project
	err := c.listREST(ctx, "projects", nil, func(raw []byte) (int, error) {
		var page struct {
			Projects struct {
				Project []struct {
					ID              string `json:"id"`
					Name            string `json:"name"`
					Description     string `json:"description"`
					ParentProjectID string `json:"parentProjectId"`
				} `json:"project"`
			} `json:"projects"` // an empty list is {} here
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return 0, err
		}
		for _, p := range page.Projects.Project {
			all = append(all, Project{ID: p.ID, Name: p.Name, Description: p.Description, ParentID: p.ParentProjectID})
		}
		return len(page.Projects.Project), nil
	})
	if err != nil {
		return nil, err
	}
	setPaths(all)
	sort.Slice(all, func(i, j int) bool { return all[i].Path < all[j].Path })
	return all, nil
}

// setPaths fills Path from the parent chain; a cycle or a missing parent ends the chain.
func setPaths(ps []Project) {
	byID := make(map[string]*Project, len(ps))
	for i := range ps {
		byID[ps[i].ID] = &ps[i]
	}
	for i := range ps {
		parts := []string{ps[i].Name}
		seen := map[string]bool{ps[i].ID: true}
		for p := byID[ps[i].ParentID]; p != nil && !seen[p.ID]; p = byID[p.ParentID] {
			seen[p.ID] = true
			parts = append(parts, p.Name)
		}
		for l, r := 0, len(parts)-1; l < r; l, r = l+1, r-1 {
			parts[l], parts[r] = parts[r], parts[l]
		}
		ps[i].Path = strings.Join(parts, "/")
	}
}

// RESTWorkbook is a workbook as the REST API lists it.
type RESTWorkbook struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	WebpageURL  string `json:"webpageUrl"`
	UpdatedAt   string `json:"updatedAt"`
	ProjectID   string
	ProjectName string
}

// ListWorkbooksREST lists workbooks through REST; filter is Tableau's
// "field:op:value" expression (e.g. "projectName:eq:Finance"), "" for all.
func (c *Client) ListWorkbooksREST(ctx context.Context, filter string) ([]RESTWorkbook, error) {
	q := url.Values{}
	if filter != "" {
		q.Set("filter", filter)
	}
	var all []RESTWorkbook
	err := c.listREST(ctx, "workbooks", q, func(raw []byte) (int, error) {
		var page struct {
			Workbooks struct {
				Workbook []struct {
					RESTWorkbook
					Project struct {
						ID   string `json:"id"`
						Name string `json:"name"`
					} `json:"project"`
				} `json:"workbook"`
			} `json:"workbooks"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return 0, err
		}
		for _, w := range page.Workbooks.Workbook {
			wb := w.RESTWorkbook
			wb.ProjectID, wb.ProjectName = w.Project.ID, w.Project.Name
			all = append(all, wb)
		}
		return len(page.Workbooks.Workbook), nil
	})
	return all, err
}

// Tree lists the site's projects as folders and its workbooks as dashboards,
// through REST: the tree dbt Cloud's collections show.
func (c *Client) Tree(ctx context.Context) (*bi.Tree, error) {
	projects, err := c.ListProjects(ctx)
	if err != nil {
		return nil, err
	}
	wbs, err := c.ListWorkbooksREST(ctx, "")
	if err != nil {
		return nil, err
	}
	t := bi.NewTree()
	for _, p := range projects {
		t.Folders[p.ID] = p.Name
	}
	for _, p := range projects {
		parent := p.ParentID
		if _, ok := t.Folders[parent]; !ok {
			parent = "" // a parent we cannot see puts the project at the top
		}
		t.Children[parent] = append(t.Children[parent], p.ID)
	}
	for _, w := range wbs {
		t.Dashboards[w.ID] = w.Name
		t.Contents[w.ProjectID] = append(t.Contents[w.ProjectID], w.ID)
	}
	t.SortByName()
	return t, nil
}
