// Package tableau is a client for Tableau's REST API (JSON) and Metadata API
// (GraphQL), following TABLEAU-WIRE.md beside this file. It knows nothing
// about Terraform: its logging and HTTP transport come from its Config, so
// dbtexposures-server uses it too.
package tableau

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// probeVersion is the old REST version clients probe serverinfo with; every
// server that has serverinfo (2.4+) answers it with its current version.
const probeVersion = "2.4"

// DefaultPageSize is the Metadata API page size; halved when Tableau reports
// the query hit its node limit.
const DefaultPageSize = 500

// restPageSize is Tableau's maximum REST page size.
const restPageSize = 1000

// Config is what a Client needs.
type Config struct {
	Host        string // bare host (HTTPS) or URL with scheme and port
	Site        string // site content URL; "" is Tableau Server's default site
	TokenName   string
	TokenSecret string
	APIVersion  string // REST version; empty means ask serverinfo
	PageSize    int    // Metadata API page size; 0 means DefaultPageSize
	// SessionRetries bounds sign-ins after Tableau ends the session under one
	// request; 0 means DefaultSessionRetries.
	SessionRetries int
	Retry          transport.RetryConfig
	UserAgent      string
	// Logger receives request traces (redacted), retries and Tableau's
	// warnings; nil discards them.
	Logger *slog.Logger
	// Transport carries the requests; nil is a pooled transport of its own.
	Transport http.RoundTripper
}

// Client talks to one Tableau site with one personal access token. It is safe
// for concurrent use and holds at most one session, because a PAT has one
// session at a time: a second sign-in would end the first.
type Client struct {
	cfg      Config
	log      *slog.Logger
	http     *retryablehttp.Client
	requests atomic.Int64

	mu      sync.Mutex // held while signing in, so concurrent callers wait for one sign-in
	server  *url.URL   // may move after a sign-in redirect (Tableau Cloud pods)
	version string
	sess    *session
}

type session struct {
	token  string
	siteID string
	userID string
}

// BaseURL turns a configured host into the server's base URL.
func BaseURL(host string) (*url.URL, error) {
	h := strings.TrimSpace(host)
	if h == "" {
		return nil, fmt.Errorf("the Tableau host is empty; set it to a host name such as 10az.online.tableau.com or a URL such as https://tableau.example.com")
	}
	if !strings.Contains(h, "://") {
		h = "https://" + h
	}
	u, err := url.Parse(strings.TrimRight(h, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("Tableau host %q is neither a host name (10az.online.tableau.com) nor an http(s) URL (https://tableau.example.com:8443)", host)
	}
	return u, nil
}

// New checks cfg and returns a client; nothing is sent until the first call.
func New(cfg Config) (*Client, error) {
	u, err := BaseURL(cfg.Host)
	if err != nil {
		return nil, err
	}
	if cfg.TokenName == "" || cfg.TokenSecret == "" {
		return nil, fmt.Errorf("a Tableau personal access token name and secret are required")
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.SessionRetries <= 0 {
		cfg.SessionRetries = DefaultSessionRetries
	}
	if cfg.Retry == (transport.RetryConfig{}) {
		cfg.Retry = transport.DefaultRetryConfig()
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "terraform-provider-dbtexposures"
	}
	if cfg.Logger == nil {
		cfg.Logger = transport.Discard
	}
	hc := transport.NewClient("Tableau", transport.ClientOptions{Retry: cfg.Retry, Logger: cfg.Logger, Base: cfg.Transport})
	// Sign-in redirects are followed by hand: Go would turn the POST into a GET.
	hc.HTTPClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &Client{cfg: cfg, log: cfg.Logger, http: hc, server: u, version: cfg.APIVersion}
	// Count every attempt, retries included, so request budgets are honest.
	logRetry := hc.RequestLogHook
	hc.RequestLogHook = func(l retryablehttp.Logger, r *http.Request, attempt int) {
		c.requests.Add(1)
		logRetry(l, r, attempt)
	}
	return c, nil
}

// Host is the Tableau host, for messages.
func (c *Client) Host() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.server.Host
}

// Requests is how many HTTP requests this client has sent (retries included).
func (c *Client) Requests() int64 { return c.requests.Load() }

// Error is an error answer from Tableau.
type Error struct {
	Host    string
	Status  int
	Code    string // Tableau's error code, e.g. "401001"
	Summary string
	Detail  string
	Hint    string // what to check
}

func (e *Error) Error() string {
	if e.Hint == "" {
		return e.Reason()
	}
	return e.Reason() + ". " + e.Hint
}

// Reason is what Tableau answered, without the hint of what to check.
func (e *Error) Reason() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tableau at %s answered HTTP %d", e.Host, e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " (error %s)", e.Code)
	}
	if e.Summary != "" || e.Detail != "" {
		fmt.Fprintf(&b, ": %s", strings.TrimSpace(e.Summary+" "+dash(e.Detail)))
	}
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return ""
	}
	return "— " + s
}

// send performs one HTTP exchange (retried by the transport on 429/5xx) and
// returns the whole answer.
func (c *Client) send(ctx context.Context, method, rawURL string, body any, authToken string) (*http.Response, []byte, error) {
	return c.exchange(ctx, method, rawURL, body, authToken, nil)
}

// exchange performs one HTTP exchange. A 200 answer is decoded into into (when
// set) from the body as it arrives, holding no copy of it; any other answer is
// read whole, for its error.
func (c *Client) exchange(ctx context.Context, method, rawURL string, body any, authToken string, into any) (*http.Response, []byte, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, nil, err
		}
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, rawURL, payload)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if authToken != "" {
		req.Header.Set("X-Tableau-Auth", authToken)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, fmt.Errorf("Tableau at %s is unreachable: %w", req.URL.Host, err)
	}
	defer resp.Body.Close()
	if into != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			return nil, nil, fmt.Errorf("Tableau at %s: the answer is not the JSON expected: %w", req.URL.Host, err)
		}
		return resp, nil, nil
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("reading Tableau's answer from %s: %w", req.URL.Host, err)
	}
	return resp, raw, nil
}

// apiError decodes Tableau's {"error": {...}} answer.
func (c *Client) apiError(host string, status int, raw []byte) *Error {
	e := &Error{Host: host, Status: status}
	var env struct {
		Error struct {
			Summary string `json:"summary"`
			Detail  string `json:"detail"`
			Code    string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &env) == nil {
		e.Summary, e.Detail, e.Code = env.Error.Summary, env.Error.Detail, env.Error.Code
	} else if len(raw) > 0 && !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("<")) && len(raw) < 300 {
		e.Detail = string(raw)
	}
	switch {
	case e.Code == "401001":
		e.Hint = fmt.Sprintf("Check the personal access token name %q and secret, that the token has not expired or been revoked, and the site ID %q (the site's content URL)", c.cfg.TokenName, c.cfg.Site)
	case e.Code == "401002":
		e.Hint = "The session ended (another sign-in with the same personal access token ends it)"
	case strings.HasPrefix(e.Code, "403"):
		e.Hint = "The token's user may not read this content: check its site role and project permissions"
	case e.Code == "404003" || e.Code == "404001":
		e.Hint = "The REST API version is not known to this server: leave the API version unset so it is discovered"
	case status == http.StatusTooManyRequests:
		e.Hint = "Tableau rate-limited the requests and retries ran out; try again later"
	case status >= 500:
		e.Hint = "Tableau had an internal error and retries ran out; try again later"
	}
	return e
}
