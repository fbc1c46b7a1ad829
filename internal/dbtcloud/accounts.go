package dbtcloud

import (
	"context"
	"fmt"
	"net/http"
)

// Account is the part of dbt Cloud's account object we use.
type Account struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Project is the part of dbt Cloud's project object we use.
type Project struct {
	ID        int64  `json:"id"`
	AccountID int64  `json:"account_id"`
	Name      string `json:"name"`
}

// ListAccounts lists the accounts the token can reach (v2 API, as dbt's own tools use).
func (c *Client) ListAccounts(ctx context.Context) ([]Account, error) {
	var out []Account
	if _, err := c.do(ctx, http.MethodGet, "/v2/accounts/", nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// ListProjects lists every project of the account, across pages.
func (c *Client) ListProjects(ctx context.Context) ([]Project, error) {
	return listAll[Project](ctx, c, fmt.Sprintf("/v3/accounts/%d/projects/", c.accountID))
}
