package powerbi

import (
	"context"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// Refresh is one entry of a dataset's refresh history.
type Refresh struct {
	RequestID string `json:"requestId"`
	Status    string `json:"status"` // Unknown (running), Completed, Failed or Disabled
	Exception string `json:"serviceExceptionJson"`
}

// Done reports whether the refresh has ended.
func (r *Refresh) Done() bool { return !strings.EqualFold(r.Status, "Unknown") && r.Status != "" }

// Succeeded reports whether it ended well.
func (r *Refresh) Succeeded() bool { return strings.EqualFold(r.Status, "Completed") }

func refreshesPath(groupID, datasetID string) string {
	return path.Join("groups", url.PathEscape(groupID), "datasets", url.PathEscape(datasetID), "refreshes")
}

// RefreshDataset asks Power BI to refresh a dataset (semantic model) and
// returns the request's ID, which its refresh history names. A refresh is
// not resent blindly: a second one would run twice (shared capacity allows 8
// a day).
func (c *Client) RefreshDataset(ctx context.Context, groupID, datasetID string) (string, error) {
	ctx = transport.NotIdempotent(ctx)
	resp, err := c.do(ctx, http.MethodPost, refreshesPath(groupID, datasetID), nil, map[string]string{"notifyOption": "NoNotification"}, nil)
	if err != nil {
		return "", err
	}
	return resp.Header.Get("RequestId"), nil
}

// RefreshStatus finds the refresh with requestID in the dataset's recent
// history; without an ID, the newest refresh stands for it. nil when absent.
func (c *Client) RefreshStatus(ctx context.Context, groupID, datasetID, requestID string) (*Refresh, error) {
	var out struct {
		Value []Refresh `json:"value"`
	}
	if _, err := c.do(ctx, http.MethodGet, refreshesPath(groupID, datasetID), url.Values{"$top": {"10"}}, nil, &out); err != nil {
		return nil, err
	}
	for i := range out.Value {
		if requestID == "" || strings.EqualFold(out.Value[i].RequestID, requestID) {
			return &out.Value[i], nil
		}
	}
	return nil, nil
}
