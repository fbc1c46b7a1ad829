// Package powerbi is a client of Power BI's admin Scanner API, signed in with
// Entra ID client credentials. It imports nothing from Terraform: logging and
// transport come from its Config.
package powerbi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// Defaults: Power BI's public cloud. Sovereign clouds and the emulator set their own.
const (
	DefaultAPIURL   = "https://api.powerbi.com"
	DefaultLoginURL = "https://login.microsoftonline.com"
	// Scope is the Power BI service's, as a client-credentials grant asks for it.
	Scope = "https://analysis.windows.net/powerbi/api/.default"
)

// Config is what a Client needs.
type Config struct {
	TenantID, ClientID, ClientSecret string
	APIURL, LoginURL                 string // "" takes the defaults
	Retry                            transport.RetryConfig
	Logger                           *slog.Logger      // request traces (redacted) and retries; nil discards
	Transport                        http.RoundTripper // nil: a pooled transport
	// PollInterval is the first wait between scanStatus polls (default 1 s; it
	// doubles up to MaxPollInterval, default 60 s, as Microsoft suggests 30 to
	// 60 s for long scans); tests use milliseconds.
	PollInterval, MaxPollInterval time.Duration
	// ScanTimeout bounds how long one scan may take before it is reported as stuck.
	ScanTimeout time.Duration
}

// Client calls the Scanner API.
type Client struct {
	cfg   Config
	api   *url.URL
	http  *retryablehttp.Client
	creds clientcredentials.Config
	mu    sync.Mutex
	tok   *oauth2.Token // reused until it expires; Entra ID gives no refresh token
	// limits are the documented hourly limits, per call.
	limits limits
}

// New checks the configuration and builds a client; it signs in on first use.
func New(cfg Config) (*Client, error) {
	for _, f := range []struct{ name, v string }{{"tenant_id", cfg.TenantID}, {"client_id", cfg.ClientID}, {"client_secret", cfg.ClientSecret}} {
		if strings.TrimSpace(f.v) == "" {
			return nil, fmt.Errorf("%s is required: the Entra ID app registration's %s", f.name, strings.ReplaceAll(f.name, "_", " "))
		}
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if cfg.LoginURL == "" {
		cfg.LoginURL = DefaultLoginURL
	}
	if cfg.Retry == (transport.RetryConfig{}) {
		cfg.Retry = transport.DefaultRetryConfig()
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second // small scans end in seconds; the wait doubles for large ones
	}
	if cfg.MaxPollInterval < cfg.PollInterval {
		cfg.MaxPollInterval = max(cfg.PollInterval, 60*time.Second)
	}
	if cfg.ScanTimeout <= 0 {
		cfg.ScanTimeout = 30 * time.Minute
	}
	api, err := url.Parse(strings.TrimRight(cfg.APIURL, "/"))
	if err != nil || (api.Scheme != "https" && api.Scheme != "http") || api.Host == "" {
		return nil, fmt.Errorf("api_url %q is not an http(s) URL such as %s", cfg.APIURL, DefaultAPIURL)
	}
	login, err := url.Parse(strings.TrimRight(cfg.LoginURL, "/"))
	if err != nil || (login.Scheme != "https" && login.Scheme != "http") || login.Host == "" {
		return nil, fmt.Errorf("login_url %q is not an http(s) URL such as %s", cfg.LoginURL, DefaultLoginURL)
	}
	hc := transport.NewClient("Power BI", transport.ClientOptions{Retry: cfg.Retry, Logger: cfg.Logger, Base: cfg.Transport})
	cc := clientcredentials.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Scopes: []string{Scope},
		TokenURL: login.JoinPath(url.PathEscape(cfg.TenantID), "oauth2", "v2.0", "token").String(), AuthStyle: oauth2.AuthStyleInParams}
	return &Client{cfg: cfg, api: api, http: hc, creds: cc, limits: newLimits()}, nil
}

// Error is a failed Power BI or Entra ID call, explained.
type Error struct {
	Status  int
	Code    string // Power BI's error code, or Entra ID's error
	Message string
	Hint    string // what to change: a tenant setting, a permission, a setting of ours
}

func (e *Error) Error() string {
	if e.Hint != "" {
		return e.Reason() + ". " + e.Hint
	}
	return e.Reason()
}

// Reason is what Power BI or Entra ID answered, without the hint.
func (e *Error) Reason() string {
	s := fmt.Sprintf("Power BI answered HTTP %d", e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// token gets an access token, explaining Entra ID's refusals.
func (c *Client) token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok.Valid() {
		return c.tok.AccessToken, nil
	}
	// The token endpoint goes through the same logging and retrying transport.
	t, err := c.creds.Token(context.WithValue(ctx, oauth2.HTTPClient, c.http.StandardClient()))
	if err == nil {
		c.tok = t
		return t.AccessToken, nil
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return "", fmt.Errorf("signing in to Entra ID at %s: %w", c.cfg.LoginURL, err)
	}
	e := &Error{Status: re.Response.StatusCode, Code: re.ErrorCode, Message: firstLine(re.ErrorDescription)}
	switch re.ErrorCode {
	case "invalid_client":
		e.Hint = "Check client_secret: it must be the secret's value, not its ID, and not expired"
	case "unauthorized_client":
		e.Hint = "Check client_id: the app registration must exist in tenant " + c.cfg.TenantID
	case "invalid_scope":
		e.Hint = "The login URL must belong to the same cloud as the API URL"
	case "invalid_request":
		e.Hint = "Check tenant_id: it must be the directory (tenant) ID or domain of the app registration"
	}
	return "", e
}

func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}

// do sends one API call under /v1.0/myorg and decodes a JSON answer into out.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) (*http.Response, error) {
	if err := c.limits.wait(ctx, path); err != nil {
		return nil, err
	}
	tok, err := c.token(ctx)
	if err != nil {
		return nil, err
	}
	u := c.api.JoinPath("v1.0", "myorg", path)
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("calling Power BI at %s: %w", c.api.Host, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		return resp, apiError(resp, raw)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp, fmt.Errorf("Power BI's answer to %s %s is not the JSON expected: %w", method, path, err)
		}
	}
	return resp, nil
}

// apiError reads {"error":{"code","message"}} or {"message"} and says what to do.
func apiError(resp *http.Response, raw []byte) *Error {
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(raw, &body)
	e := &Error{Status: resp.StatusCode, Code: body.Error.Code, Message: body.Error.Message}
	if e.Message == "" {
		e.Message = body.Message
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || e.Code == "PowerBINotAuthorizedException":
		e.Hint = "Put the app's service principal in a security group allowed by the tenant setting " +
			"\"Service principals can access read-only admin APIs\", and give the app no admin-consent-required Power BI permissions"
	case resp.StatusCode == http.StatusTooManyRequests:
		e.Hint = "Power BI's hourly limit for this call is spent; wait for Retry-After (" + resp.Header.Get("Retry-After") + " s) or scan less often"
	}
	return e
}
