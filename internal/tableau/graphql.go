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

// gqlAnswer is a Metadata API answer, decoded from the response as it arrives.
type gqlAnswer[D any] struct {
	Data   *D             `json:"data"`
	Errors []GraphQLError `json:"errors"`
}

// graphQL runs one query. Warnings are logged and do not fail it; node and time
// limits return errTooBig; throttling is retried with backoff; any other error
// fails it, even when partial data came with it (partial lineage is wrong lineage).
func graphQL[D any](ctx context.Context, c *Client, query string, vars map[string]any) (*D, error) {
	body := map[string]any{"query": query, "variables": vars}
	for attempt := 0; ; attempt++ {
		var ans gqlAnswer[D]
		var host string
		resp, raw, err := c.authed(ctx, metadataAPI, func(s *session, _ string, server *url.URL) (*http.Response, []byte, error) {
			ans, host = gqlAnswer[D]{}, server.Host
			return c.exchange(ctx, http.MethodPost, server.JoinPath("api", "metadata", "graphql").String(), body, s.token, &ans)
		})
		shapeErr := partialOfOtherShape(err, ans.Errors)
		if err != nil && shapeErr == nil {
			return nil, err
		}
		if shapeErr == nil && resp.StatusCode != http.StatusOK {
			e := c.apiError(host, resp.StatusCode, raw)
			if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden {
				e.Hint = "Check that the Metadata API is enabled on this Tableau (Tableau Server: tsm maintenance metadata-services enable) and that the token's user may use it"
			}
			return nil, e
		}
		retry, err := c.answerErrors(ctx, host, ans.Errors, ans.Data != nil || shapeErr != nil, attempt)
		switch {
		case err != nil: // a wait for throttling that the context ended comes here too
			return nil, err
		case retry:
			continue
		case shapeErr != nil:
			return nil, shapeErr
		case ans.Data == nil:
			return nil, fmt.Errorf("Tableau at %s: the Metadata API answered without data", host)
		}
		return ans.Data, nil
	}
}

// answerErrors sorts the errors of an answer: warnings are logged, throttling
// is waited out (retry), node and time limits are errTooBig, the rest fail.
func (c *Client) answerErrors(ctx context.Context, host string, errs []GraphQLError, hasData bool, attempt int) (retry bool, err error) {
	var fatal []string
	tooBig, throttled := false, false
	for _, ge := range errs {
		switch code := ge.code(); {
		case code == "NODE_LIMIT_EXCEEDED" || code == "TIME_LIMIT_EXCEEDED" || strings.Contains(ge.Message, "time limit"):
			tooBig = true
		case code == "RATE_EXCEEDED":
			throttled = true
		case ge.warning():
			c.log.WarnContext(ctx, "Tableau Metadata API warning", "host", host, "code", code, "message", ge.Message)
		case code == "FEATURE_DISABLED":
			return false, &Error{Host: host, Status: 200, Code: code, Summary: "Metadata API disabled", Detail: ge.Message,
				Hint: "Enable the Metadata API on this Tableau Server (tsm maintenance metadata-services enable)"}
		default:
			fatal = append(fatal, strings.TrimSpace(code+" "+ge.Message))
		}
	}
	switch {
	case tooBig:
		return false, errTooBig
	case throttled && attempt < maxRateRetries:
		return true, transport.Sleep(ctx, transport.Backoff(time.Second, 30*time.Second, attempt, nil))
	case throttled:
		return false, &Error{Host: host, Status: 200, Code: "RATE_EXCEEDED", Summary: "Metadata API throttled the requests", Hint: "Try again later"}
	case len(fatal) > 0:
		partial := ""
		if hasData {
			partial = " (it returned partial data, which was not used)"
		}
		return false, fmt.Errorf("Tableau at %s: the Metadata API answered with errors%s: %s", host, partial, strings.Join(fatal, "; "))
	}
	return false, nil
}

// connection is one page of a Metadata API connection of T nodes. It is
// decoded in one pass, with no UnmarshalJSON of its own: its pages are the
// largest answers the client reads.
type connection[T any] struct {
	Nodes      []T      `json:"nodes"`
	PageInfo   pageInfo `json:"pageInfo"`
	TotalCount int      `json:"totalCount"`
}

type pageInfo struct {
	HasNextPage bool   `json:"hasNextPage"`
	EndCursor   string `json:"endCursor"`
}

// partialOfOtherShape is the decoding error of an answer whose errors came
// with partial data of another shape than asked for (Tableau sends any shape
// beside an error), for the errors to be reported first; nil otherwise.
func partialOfOtherShape(err error, errs []GraphQLError) error {
	var shape *json.UnmarshalTypeError
	if len(errs) > 0 && errors.As(err, &shape) {
		return err
	}
	return nil
}

// maxGraphQLPages bounds a cursor walk against a server that never ends it.
const maxGraphQLPages = 100000

// pageAll walks a connection with first/after cursors, handing each page's
// nodes to each; a page is decoded straight into T and dropped after each.
// When Tableau reports a node or time limit, the page size is halved and the
// same page asked again.
func pageAll[T any](ctx context.Context, c *Client, query, field string, each func(nodes []T) error) error {
	return pageAllWith(ctx, c, query, field, nil, each)
}

// pageAllWith is pageAll with more query variables, such as a filter's IDs.
func pageAllWith[T any](ctx context.Context, c *Client, query, field string, vars map[string]any, each func(nodes []T) error) error {
	first := c.cfg.PageSize
	if _, byID := vars["ids"]; byID {
		first = maxIDsPage // a batch of IDs is read whole; the node limit halves it if need be
	}
	var after *string
	for pages := 0; pages < maxGraphQLPages; {
		page := map[string]any{"first": first, "after": after}
		for k, v := range vars {
			page[k] = v
		}
		conn, err := onePage[T](ctx, c, query, field, page)
		if errors.Is(err, errTooBig) {
			first = max(1, first/2)
			c.log.InfoContext(ctx, "Tableau query hit a node or time limit; halving the page size", "field", field, "first", first)
			continue
		}
		if err != nil {
			return err
		}
		pages++
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
