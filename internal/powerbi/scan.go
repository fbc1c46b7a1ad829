package powerbi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// Scanner API limits (Microsoft's): workspaces per getInfo, scans in flight.
const (
	MaxWorkspacesPerScan = 100
	MaxScansInFlight     = 16
)

// ModifiedWorkspaces lists the tenant's workspace IDs (all of them: no
// modifiedSince), personal and inactive ones left out.
func (c *Client) ModifiedWorkspaces(ctx context.Context) ([]string, error) {
	var list []struct {
		ID string `json:"id"`
	}
	q := url.Values{"excludePersonalWorkspaces": {"true"}, "excludeInActiveWorkspaces": {"true"}}
	if _, err := c.do(ctx, http.MethodGet, "admin/workspaces/modified", q, nil, &list); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(list))
	for _, w := range list {
		ids = append(ids, w.ID)
	}
	return ids, nil
}

// scanStatus is getInfo's and scanStatus's answer.
type scanStatus struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Error  *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Scan reads the workspaces with lineage, data source details, dataset schema
// and expressions, and users: getInfo in chunks of at most 100, at most 16 in
// flight, each polled until it ends, then its result. The results are merged.
func (c *Client) Scan(ctx context.Context, workspaceIDs []string) (*ScanResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		out   = &ScanResult{}
		first error
		wg    sync.WaitGroup
		slots = make(chan struct{}, MaxScansInFlight)
	)
	for start := 0; start < len(workspaceIDs); start += MaxWorkspacesPerScan {
		chunk := workspaceIDs[start:min(start+MaxWorkspacesPerScan, len(workspaceIDs))]
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			res, err := c.scanChunk(ctx, chunk)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = err
					cancel() // one failed scan fails the read; stop the others
				}
				return
			}
			out.merge(res)
		}()
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return out, first
}

func (c *Client) scanChunk(ctx context.Context, ids []string) (*ScanResult, error) {
	q := url.Values{"lineage": {"true"}, "datasourceDetails": {"true"}, "datasetSchema": {"true"},
		"datasetExpressions": {"true"}, "getArtifactUsers": {"true"}}
	var st scanStatus
	// A scan is cheap to start again: getInfo is safe to retry.
	if _, err := c.do(ctx, http.MethodPost, "admin/workspaces/getInfo", q, map[string]any{"workspaces": ids}, &st); err != nil {
		return nil, err
	}
	if err := c.waitScan(ctx, &st); err != nil {
		return nil, err
	}
	var res ScanResult
	if _, err := c.do(ctx, http.MethodGet, "admin/workspaces/scanResult/"+url.PathEscape(st.ID), nil, nil, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// waitScan polls scanStatus with a doubling wait until the scan ends.
func (c *Client) waitScan(ctx context.Context, st *scanStatus) error {
	deadline := time.Now().Add(c.cfg.ScanTimeout)
	wait := c.cfg.PollInterval
	for {
		switch strings.ToLower(st.Status) {
		case "succeeded":
			return nil
		case "failed":
			msg := "no reason given"
			if st.Error != nil {
				msg = strings.TrimSpace(st.Error.Code + " " + st.Error.Message)
			}
			return fmt.Errorf("Power BI scan %s failed: %s", st.ID, msg)
		}
		if time.Now().Add(wait).After(deadline) {
			return fmt.Errorf("Power BI scan %s did not finish within %s (last status %q)", st.ID, c.cfg.ScanTimeout, st.Status)
		}
		if err := transport.Sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, c.cfg.MaxPollInterval)
		if _, err := c.do(ctx, http.MethodGet, "admin/workspaces/scanStatus/"+url.PathEscape(st.ID), nil, nil, st); err != nil {
			return err
		}
	}
}
