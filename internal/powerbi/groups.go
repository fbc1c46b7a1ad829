package powerbi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// maxGroupsPage is the largest $top that admin/groups takes.
const maxGroupsPage = 5000

// Group is a workspace as admin/groups lists it, without its content.
type Group struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Type  string `json:"type"`
	State string `json:"state"`
}

// scanned reports whether the Scanner API's workspace list includes g: it
// leaves out personal and inactive workspaces (see ModifiedWorkspaces).
func (g Group) scanned() bool {
	return g.State == "Active" && g.Type != "PersonalGroup" && g.Type != "Personal"
}

// Groups lists the tenant's workspaces that a scan covers, with their names,
// through admin/groups: one light admin call per 5,000 workspaces, never a
// scan. It is how a credential is checked.
func (c *Client) Groups(ctx context.Context) ([]Group, error) {
	var out []Group
	for skip := 0; ; skip += maxGroupsPage {
		var page struct {
			Value []Group `json:"value"`
		}
		q := url.Values{"$top": {strconv.Itoa(maxGroupsPage)}, "$skip": {strconv.Itoa(skip)}}
		if _, err := c.do(ctx, http.MethodGet, "admin/groups", q, nil, &page); err != nil {
			return nil, err
		}
		for _, g := range page.Value {
			if g.scanned() {
				out = append(out, g)
			}
		}
		if len(page.Value) < maxGroupsPage {
			return out, nil
		}
	}
}
