package dbtcloud

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// LineageIntegration is dbt Cloud's LineageIntegration schema. Config is not in
// the published schema; dbt Cloud's UI API returns it without the token, so it
// is read when present and nil otherwise.
type LineageIntegration struct {
	ID        int64              `json:"id"`
	AccountID int64              `json:"account_id"`
	ProjectID int64              `json:"project_id"`
	Name      string             `json:"name"`
	CreatedAt string             `json:"created_at"`
	UpdatedAt string             `json:"updated_at"`
	Config    *IntegrationConfig `json:"config,omitempty"`
}

// IntegrationConfig is a lineage integration's config: Tableau's fields or
// Power BI's. Token and ClientSecret are write-only: sent, never read back.
// Pointers let a PATCH carry only what changed.
type IntegrationConfig struct {
	Host      *string `json:"host,omitempty"`       // Tableau
	SiteID    *string `json:"site_id,omitempty"`    // Tableau
	TokenName *string `json:"token_name,omitempty"` // Tableau
	Token     *string `json:"token,omitempty"`      // Tableau

	TenantID     *string `json:"tenant_id,omitempty"`     // Power BI
	ClientID     *string `json:"client_id,omitempty"`     // Power BI
	ClientSecret *string `json:"client_secret,omitempty"` // Power BI
}

// CreateLineageIntegrationRequest is PostLineageIntegrationRequest.
type CreateLineageIntegrationRequest struct {
	Name      string            `json:"name"`
	AccountID int64             `json:"account_id"`
	ProjectID int64             `json:"project_id,omitempty"`
	Config    IntegrationConfig `json:"config"`
}

// PatchLineageIntegrationRequest is PatchLineageIntegrationRequest: only set fields are sent.
type PatchLineageIntegrationRequest struct {
	Config *IntegrationConfig `json:"config,omitempty"`
}

// ItemType is the kind of an item in the BI tool's tree, as WatchSelectionItem.type.
type ItemType string

const (
	ItemFolder    ItemType = "folder"    // a Tableau project
	ItemDashboard ItemType = "dashboard" // a Tableau workbook
)

// Valid reports whether t is one of the types dbt Cloud's API knows.
func (t ItemType) Valid() bool { return t == ItemFolder || t == ItemDashboard }

// WatchSelectionItem is one folder or dashboard in the BI tool's tree.
type WatchSelectionItem struct {
	Identifier string   `json:"identifier"`
	Name       string   `json:"name"`
	Type       ItemType `json:"type"`
	Watching   bool     `json:"watching"`
}

// SelectionChange is PostLineageIntegrationWatchSelectionRequest.
type SelectionChange struct {
	ToAdd    []WatchSelectionItem `json:"to_add"`
	ToRemove []string             `json:"to_remove"`
}

// SelectionResult is GetLineageIntegrationWatchSelectionResponse.
type SelectionResult struct {
	Added   int `json:"added"`
	Removed int `json:"removed"`
}

func (c *Client) lineagePath(projectID int64) string {
	return fmt.Sprintf("/v3/accounts/%d/projects/%d/integrations/lineage/", c.accountID, projectID)
}

// ListLineageIntegrations lists a project's lineage integrations.
func (c *Client) ListLineageIntegrations(ctx context.Context, projectID int64) ([]LineageIntegration, error) {
	return listAll[LineageIntegration](ctx, c, c.lineagePath(projectID))
}

// CreateLineageIntegration creates an integration; req.AccountID defaults to the
// client's account. The POST is not idempotent, so it is resent only when dbt
// Cloud certainly did not act on it (429, no connection); after any other
// failure, OutcomeUnknown tells whether the integration may exist anyway.
func (c *Client) CreateLineageIntegration(ctx context.Context, projectID int64, req CreateLineageIntegrationRequest) (*LineageIntegration, error) {
	ctx = transport.NotIdempotent(ctx)
	if req.AccountID == 0 {
		req.AccountID = c.accountID
	}
	if req.ProjectID == 0 {
		req.ProjectID = projectID
	}
	var out LineageIntegration
	if _, err := c.do(ctx, http.MethodPost, c.lineagePath(projectID), nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetLineageIntegration reads one integration.
func (c *Client) GetLineageIntegration(ctx context.Context, projectID, id int64) (*LineageIntegration, error) {
	var out LineageIntegration
	if _, err := c.do(ctx, http.MethodGet, fmt.Sprintf("%s%d/", c.lineagePath(projectID), id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateLineageIntegration PATCHes only the fields set in req.
func (c *Client) UpdateLineageIntegration(ctx context.Context, projectID, id int64, req PatchLineageIntegrationRequest) (*LineageIntegration, error) {
	var out LineageIntegration
	if _, err := c.do(ctx, http.MethodPatch, fmt.Sprintf("%s%d/", c.lineagePath(projectID), id), nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteLineageIntegration deletes an integration (dbt Cloud answers 204).
func (c *Client) DeleteLineageIntegration(ctx context.Context, projectID, id int64) error {
	_, err := c.do(ctx, http.MethodDelete, fmt.Sprintf("%s%d/", c.lineagePath(projectID), id), nil, nil, nil)
	return err
}

// ListCollections lists the top of the BI tool's tree (collectionID "") or one folder's children.
func (c *Client) ListCollections(ctx context.Context, projectID, id int64, collectionID string) ([]WatchSelectionItem, error) {
	var q url.Values
	if collectionID != "" {
		q = url.Values{"collection_id": {collectionID}}
	}
	var data []struct {
		Collections []WatchSelectionItem `json:"collections"`
	}
	if _, err := c.do(ctx, http.MethodGet, fmt.Sprintf("%s%d/collections/", c.lineagePath(projectID), id), q, nil, &data); err != nil {
		return nil, err
	}
	var out []WatchSelectionItem
	for _, d := range data {
		out = append(out, d.Collections...)
	}
	return out, nil
}

// UpdateSelections starts and stops watching items.
func (c *Client) UpdateSelections(ctx context.Context, projectID, id int64, change SelectionChange) (*SelectionResult, error) {
	if change.ToAdd == nil {
		change.ToAdd = []WatchSelectionItem{}
	}
	if change.ToRemove == nil {
		change.ToRemove = []string{}
	}
	path := fmt.Sprintf("%s%d/selections", c.lineagePath(projectID), id)
	raw, err := c.exchange(ctx, http.MethodPost, path, nil, change)
	if err != nil {
		return nil, err
	}
	// The spec answers {added, removed} bare; accept dbt Cloud's envelope too.
	var out struct {
		SelectionResult
		Data   *SelectionResult `json:"data"`
		Status *Status          `json:"status"`
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, fmt.Errorf("POST %s: decoding answer: %w", path, err)
		}
	}
	if out.Status != nil && !out.Status.IsSuccess && out.Status.Code >= 400 {
		return nil, newAPIError(http.MethodPost, path, out.Status.Code, raw)
	}
	if out.Data != nil {
		return out.Data, nil
	}
	return &out.SelectionResult, nil
}
