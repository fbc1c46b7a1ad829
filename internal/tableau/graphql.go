package tableau

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// GraphQLError is one entry of a Metadata API answer's "errors".
type GraphQLError struct {
	Message    string `json:"message"`
	Extensions *struct {
		Severity string `json:"severity"`
		Code     string `json:"code"`
	} `json:"extensions"`
}

func (e GraphQLError) code() string {
	if e.Extensions == nil {
		return ""
	}
	return e.Extensions.Code
}

func (e GraphQLError) warning() bool {
	return e.Extensions != nil && strings.EqualFold(e.Extensions.Severity, "WARNING")
}

// errTooBig means Tableau stopped the query at its node or time limit: the
// same page must be asked for again, smaller.
var errTooBig = errors.New("query exceeded Tableau's node or time limit")

// maxRateRetries bounds retries of RATE_EXCEEDED answered inside a 200.
const maxRateRetries = 5

// graphQL runs one query. Warnings are logged and do not fail it; node and time
// limits return errTooBig; throttling is retried with backoff; any other error
// fails it, even when partial data came with it (partial lineage is wrong lineage).
func (c *Client) graphQL(ctx context.Context, query string, vars map[string]any, out any) error {
	body := map[string]any{"query": query, "variables": vars}
	for attempt := 0; ; attempt++ {
		resp, raw, err := c.authed(ctx, func(s *session, _ string, server *url.URL) (*http.Response, []byte, error) {
			return c.send(ctx, http.MethodPost, server.JoinPath("api", "metadata", "graphql").String(), body, s.token)
		})
		if err != nil {
			return err
		}
		host := resp.Request.URL.Host
		if resp.StatusCode != http.StatusOK {
			e := c.apiError(host, resp.StatusCode, raw)
			if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden {
				e.Hint = "Check that the Metadata API is enabled on this Tableau (Tableau Server: tsm maintenance metadata-services enable) and that the token's user may use it"
			}
			return e
		}
		var ans struct {
			Data   json.RawMessage `json:"data"`
			Errors []GraphQLError  `json:"errors"`
		}
		if err := json.Unmarshal(raw, &ans); err != nil {
			return fmt.Errorf("Tableau at %s: the Metadata API answer is not JSON: %w", host, err)
		}
		var fatal []string
		tooBig, throttled := false, false
		for _, ge := range ans.Errors {
			switch code := ge.code(); {
			case code == "NODE_LIMIT_EXCEEDED" || code == "TIME_LIMIT_EXCEEDED" || strings.Contains(ge.Message, "time limit"):
				tooBig = true
			case code == "RATE_EXCEEDED":
				throttled = true
			case ge.warning():
				c.log.WarnContext(ctx, "Tableau Metadata API warning", "host", host, "code", code, "message", ge.Message)
			case code == "FEATURE_DISABLED":
				return &Error{Host: host, Status: 200, Code: code, Summary: "Metadata API disabled", Detail: ge.Message,
					Hint: "Enable the Metadata API on this Tableau Server (tsm maintenance metadata-services enable)"}
			default:
				fatal = append(fatal, strings.TrimSpace(code+" "+ge.Message))
			}
		}
		switch {
		case tooBig:
			return errTooBig
		case throttled && attempt < maxRateRetries:
			if err := transport.Sleep(ctx, transport.Backoff(time.Second, 30*time.Second, attempt, nil)); err != nil {
				return err
			}
			continue
		case throttled:
			return &Error{Host: host, Status: 200, Code: "RATE_EXCEEDED", Summary: "Metadata API throttled the requests", Hint: "Try again later"}
		case len(fatal) > 0:
			partial := ""
			if len(ans.Data) > 0 && string(ans.Data) != "null" {
				partial = " (it returned partial data, which was not used)"
			}
			return fmt.Errorf("Tableau at %s: the Metadata API answered with errors%s: %s", host, partial, strings.Join(fatal, "; "))
		}
		if len(ans.Data) == 0 || string(ans.Data) == "null" {
			return fmt.Errorf("Tableau at %s: the Metadata API answered without data", host)
		}
		return json.Unmarshal(ans.Data, out)
	}
}

type connection struct {
	Nodes    json.RawMessage `json:"nodes"`
	PageInfo struct {
		HasNextPage bool   `json:"hasNextPage"`
		EndCursor   string `json:"endCursor"`
	} `json:"pageInfo"`
}

// maxGraphQLPages bounds a cursor walk against a server that never ends it.
const maxGraphQLPages = 100000

// pageAll walks a connection with first/after cursors. When Tableau reports a
// node or time limit, the page size is halved and the same page asked again.
func (c *Client) pageAll(ctx context.Context, query, field string, each func(nodes json.RawMessage) error) error {
	first := c.cfg.PageSize
	var after *string
	for pages := 0; pages < maxGraphQLPages; {
		var data map[string]connection
		err := c.graphQL(ctx, query, map[string]any{"first": first, "after": after}, &data)
		if errors.Is(err, errTooBig) {
			if first == 1 {
				return fmt.Errorf("Tableau: even one %s node exceeds the Metadata API's node or time limit", field)
			}
			first = max(1, first/2)
			c.log.InfoContext(ctx, "Tableau query hit a node or time limit; halving the page size", "field", field, "first", first)
			continue
		}
		if err != nil {
			return err
		}
		pages++
		conn, ok := data[field]
		if !ok {
			return fmt.Errorf("Tableau: the Metadata API answer has no %s", field)
		}
		if err := each(conn.Nodes); err != nil {
			return err
		}
		if !conn.PageInfo.HasNextPage {
			return nil
		}
		if conn.PageInfo.EndCursor == "" || (after != nil && *after == conn.PageInfo.EndCursor) {
			return fmt.Errorf("Tableau: the Metadata API did not advance its %s cursor; stopping rather than looping", field)
		}
		cur := conn.PageInfo.EndCursor
		after = &cur
	}
	return fmt.Errorf("Tableau: gave up on %s after %d pages", field, maxGraphQLPages)
}
