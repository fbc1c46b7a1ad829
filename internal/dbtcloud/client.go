// Package dbtcloud is a client for the subset of dbt Cloud's v2/v3 API that the
// provider uses. It follows dbt Cloud's published OpenAPI spec and knows nothing
// about Terraform: its logging and HTTP transport come from its Config, so the
// provider, the server's tests and other tools can all use it.
package dbtcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// DefaultHostURL is dbt Cloud's multi-tenant US API base, /api included.
const DefaultHostURL = "https://cloud.getdbt.com/api"

// Config is what a Client needs.
type Config struct {
	HostURL   string // base URL including /api, e.g. https://cloud.getdbt.com/api
	AccountID int64
	Token     string
	UserAgent string
	Retry     transport.RetryConfig
	// Logger receives request traces (redacted) and retries; nil discards them.
	Logger *slog.Logger
	// Transport carries the requests; nil is a pooled transport of its own.
	Transport http.RoundTripper
	// Throttle, when set, paces this client's requests together with those of
	// every other client that shares it, and pauses them all on a 429.
	Throttle *transport.Throttle
}

// Client talks to one dbt Cloud account.
type Client struct {
	base      *url.URL
	accountID int64
	token     string
	userAgent string
	http      *retryablehttp.Client
	throttle  *transport.Throttle
}

// HostURL is the API base the client calls, for messages.
func (c *Client) HostURL() string { return c.base.String() }

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.HostURL == "" {
		cfg.HostURL = DefaultHostURL
	}
	u, err := url.Parse(strings.TrimRight(cfg.HostURL, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("host URL %q is not an absolute URL such as %s", cfg.HostURL, DefaultHostURL)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("host URL %q must use http or https", cfg.HostURL)
	}
	if cfg.Token == "" {
		return nil, fmt.Errorf("an API token is required")
	}
	if cfg.Retry == (transport.RetryConfig{}) {
		cfg.Retry = transport.DefaultRetryConfig()
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "terraform-provider-dbtexposures/dev"
	}
	return &Client{
		base:      u,
		accountID: cfg.AccountID,
		token:     cfg.Token,
		userAgent: cfg.UserAgent,
		http:      transport.NewClient("dbt Cloud", transport.ClientOptions{Retry: cfg.Retry, Logger: cfg.Logger, Base: cfg.Transport, Throttle: cfg.Throttle}),
		throttle:  cfg.Throttle,
	}, nil
}

// AccountID is the account this client addresses.
func (c *Client) AccountID() int64 { return c.accountID }

// Status is the status object of dbt Cloud's response envelope.
type Status struct {
	Code             int    `json:"code"`
	IsSuccess        bool   `json:"is_success"`
	UserMessage      string `json:"user_message"`
	DeveloperMessage string `json:"developer_message"`
}

// Pagination is extra.pagination of a list response.
type Pagination struct {
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
}

type envelope struct {
	Data   json.RawMessage `json:"data"`
	Status *Status         `json:"status"`
	Extra  struct {
		Pagination *Pagination `json:"pagination"`
	} `json:"extra"`
}

// do sends one request and decodes the envelope's data into out (if non-nil).
// It returns the pagination block when the response has one.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) (*Pagination, error) {
	raw, err := c.exchange(ctx, method, path, query, body)
	if err != nil || raw == nil {
		return nil, err
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("%s %s: response is not dbt Cloud's JSON envelope: %w", method, path, err)
	}
	if env.Status != nil && !env.Status.IsSuccess && env.Status.Code >= 400 {
		return nil, newAPIError(method, path, env.Status.Code, raw)
	}
	if out != nil && len(env.Data) > 0 && string(env.Data) != "null" {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return nil, fmt.Errorf("%s %s: decoding data: %w", method, path, err)
		}
	}
	return env.Extra.Pagination, nil
}

// exchange sends one request and returns the body of a 2xx answer (nil when
// empty) or an *APIError.
func (c *Client) exchange(ctx context.Context, method, path string, query url.Values, body any) ([]byte, error) {
	u := *c.base
	u.Path = c.base.Path + path
	if query != nil {
		u.RawQuery = query.Encode()
	}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("encoding %s %s request: %w", method, path, err)
		}
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u.String(), payload)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Token "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s %s: %w", method, u.Path, ctx.Err())
		}
		return nil, fmt.Errorf("%s %s: %w", method, u.Path, scrub(err, c.token))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading response: %w", method, u.Path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := newAPIError(method, u.Path, resp.StatusCode, raw)
		if resp.StatusCode == http.StatusTooManyRequests {
			e.Note = c.rateNote()
		}
		return nil, e
	}
	if resp.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	return raw, nil
}

// AccountRateLimit is dbt Cloud's documented limit per account; past it, dbt
// Cloud answers 429 and pauses the account for several minutes.
const AccountRateLimit = 5000

// rateNote explains a 429: dbt Cloud's limit, and this client's own pace.
func (c *Client) rateNote() string {
	own := "this client does not limit its rate"
	if c.throttle != nil && c.throttle.PerMinute() > 0 {
		own = fmt.Sprintf("this client sends at most %d requests a minute", c.throttle.PerMinute())
	}
	return fmt.Sprintf("dbt Cloud allows %d requests a minute per account, shared with its UI and every other tool, then pauses the account; %s", AccountRateLimit, own)
}

// maxPages bounds any list walk, so a server that misreports totals cannot make us loop forever.
const maxPages = 10000

// pageSize is dbt Cloud's maximum limit for list endpoints.
const pageSize = 100

// listAll walks a limit/offset list of T, with the filters in query.
func listAll[T any](ctx context.Context, c *Client, path string, filters ...url.Values) ([]T, error) {
	query := url.Values{}
	for _, f := range filters {
		for k, v := range f {
			query[k] = v
		}
	}
	var all []T
	for i := 0; i < maxPages; i++ {
		query.Set("limit", strconv.Itoa(pageSize))
		query.Set("offset", strconv.Itoa(len(all)))
		var page []T
		pg, err := c.do(ctx, http.MethodGet, path, query, nil, &page)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		// Stop on an empty page, a short page, or once the advertised total is reached.
		if len(page) == 0 || len(page) < pageSize || pg == nil || len(all) >= pg.TotalCount {
			return all, nil
		}
	}
	return nil, fmt.Errorf("GET %s: gave up after %d pages; the server keeps reporting more items", path, maxPages)
}

// scrub removes the token from an error text (url.Error can echo request
// details), keeping the error itself for errors.Is and errors.As.
func scrub(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &scrubbed{msg: strings.ReplaceAll(err.Error(), secret, transport.Redacted), err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }
