package tableau

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// ensureSession returns the current session, signing in (once, however many
// goroutines ask at the same time) when there is none.
func (c *Client) ensureSession(ctx context.Context) (*session, string, *url.URL, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess == nil {
		if c.version == "" {
			v, err := c.probeVersion(ctx)
			if err != nil {
				return nil, "", nil, err
			}
			c.version = v
		}
		s, err := c.signIn(ctx)
		if err != nil {
			return nil, "", nil, err
		}
		c.sess = s
	}
	return c.sess, c.version, c.server, nil
}

// dropSession forgets s if it is still the current session, so the next caller signs in again.
func (c *Client) dropSession(s *session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess == s {
		c.sess = nil
	}
}

// probeVersion asks serverinfo (no sign-in needed) for the server's REST version.
func (c *Client) probeVersion(ctx context.Context) (string, error) {
	u := c.server.JoinPath("api", probeVersion, "serverinfo")
	resp, raw, err := c.send(ctx, http.MethodGet, u.String(), nil, "")
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		e := c.apiError(c.server.Host, resp.StatusCode, raw)
		if e.Code == "404003" || e.Code == "404001" || resp.StatusCode == http.StatusNotFound {
			e.Hint = "This server does not answer serverinfo (Tableau Server 10.1 or later does); check the host, or set the REST API version explicitly"
		}
		return "", e
	}
	var info struct {
		ServerInfo struct {
			RestAPIVersion string `json:"restApiVersion"`
		} `json:"serverInfo"`
	}
	if err := json.Unmarshal(raw, &info); err != nil || info.ServerInfo.RestAPIVersion == "" {
		return "", fmt.Errorf("Tableau at %s: serverinfo did not name a REST API version (is this a Tableau server?)", c.server.Host)
	}
	return info.ServerInfo.RestAPIVersion, nil
}

type signInRequest struct {
	Credentials struct {
		Name   string `json:"personalAccessTokenName"`
		Secret string `json:"personalAccessTokenSecret"`
		Site   struct {
			ContentURL string `json:"contentUrl"`
		} `json:"site"`
	} `json:"credentials"`
}

// signIn signs in with the PAT. Tableau Cloud may answer 301 to the site's pod:
// the request is re-POSTed there and later calls go there too.
func (c *Client) signIn(ctx context.Context) (*session, error) {
	var body signInRequest
	body.Credentials.Name = c.cfg.TokenName
	body.Credentials.Secret = c.cfg.TokenSecret
	body.Credentials.Site.ContentURL = c.cfg.Site
	target := c.server.JoinPath("api", c.version, "auth", "signin")
	for hops := 0; ; hops++ {
		resp, raw, err := c.send(ctx, http.MethodPost, target.String(), body, "")
		if err != nil {
			return nil, err
		}
		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			loc, err := target.Parse(resp.Header.Get("Location"))
			if err != nil || hops >= 3 || loc.Host == "" {
				return nil, fmt.Errorf("Tableau at %s redirected the sign-in to %q, which cannot be followed", target.Host, resp.Header.Get("Location"))
			}
			target = loc
			c.server = &url.URL{Scheme: loc.Scheme, Host: loc.Host}
			continue
		case http.StatusOK, http.StatusCreated:
		default:
			return nil, c.apiError(target.Host, resp.StatusCode, raw)
		}
		var out struct {
			Credentials struct {
				Site struct {
					ID string `json:"id"`
				} `json:"site"`
				User struct {
					ID string `json:"id"`
				} `json:"user"`
				Token string `json:"token"`
			} `json:"credentials"`
		}
		if err := json.Unmarshal(raw, &out); err != nil || out.Credentials.Token == "" || out.Credentials.Site.ID == "" {
			return nil, fmt.Errorf("Tableau at %s: the sign-in answer has no session token or site", target.Host)
		}
		return &session{token: out.Credentials.Token, siteID: out.Credentials.Site.ID, userID: out.Credentials.User.ID}, nil
	}
}

// SignOut ends the session, if any. Call it when done with the client. A
// session that has already ended (another sign-in with the same token ended
// it, or it timed out) is not an error: it is gone either way.
func (c *Client) SignOut(ctx context.Context) error {
	c.mu.Lock()
	s, v, server := c.sess, c.version, c.server
	c.sess = nil
	c.mu.Unlock()
	if s == nil {
		return nil
	}
	resp, raw, err := c.send(ctx, http.MethodPost, server.JoinPath("api", v, "auth", "signout").String(), nil, s.token)
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK, http.StatusUnauthorized:
		return nil
	}
	return c.apiError(server.Host, resp.StatusCode, raw)
}

// DefaultSessionRetries bounds how often one request signs in again after
// Tableau says its session ended. Another process signing in with the same
// token can end ours more than once while we page through a list.
const DefaultSessionRetries = 6

// Waits between those sign-ins: jittered, so two processes sharing a token
// stop ending each other's sessions in lockstep.
const (
	sessionWaitMin = 20 * time.Millisecond
	sessionWaitMax = 2 * time.Second
)

// SessionEndedError means Tableau ended the session under the same request
// more times in a row than the client signs in again.
type SessionEndedError struct {
	Host  string
	Times int
}

// Reason is what happened, without the advice.
func (e *SessionEndedError) Reason() string {
	return fmt.Sprintf("Tableau at %s ended the session %d times in a row", e.Host, e.Times)
}

func (e *SessionEndedError) Error() string {
	return e.Reason() + ". The usual cause is another process signing in with the same personal access token (Tableau keeps one session per token): " +
		"give each use its own token, for example one for discovery and another for the dbt Cloud connection"
}

// api tells authed which answers mean "your session ended".
type api int

const (
	restAPI     api = iota // 401 with code 401002
	metadataAPI            // any 401, whatever its body
)

// authed runs call with a session. When Tableau says the session ended, it
// signs in again and repeats the call, up to SessionRetries times with
// jittered waits. Repeating is safe even for requests that are not
// idempotent: Tableau refused the request before acting on it.
func (c *Client) authed(ctx context.Context, kind api, call func(s *session, version string, server *url.URL) (*http.Response, []byte, error)) (*http.Response, []byte, error) {
	for ended := 0; ; {
		s, v, server, err := c.ensureSession(ctx)
		if err != nil {
			return nil, nil, err
		}
		resp, raw, err := call(s, v, server)
		if err != nil {
			return nil, nil, err
		}
		if !c.sessionEnded(kind, server.Host, resp.StatusCode, raw) {
			return resp, raw, nil
		}
		c.dropSession(s)
		ended++
		if ended > c.cfg.SessionRetries {
			return nil, nil, &SessionEndedError{Host: server.Host, Times: ended}
		}
		c.log.DebugContext(ctx, "Tableau ended the session; signing in again", "host", server.Host, "times", ended)
		if err := transport.Sleep(ctx, transport.Backoff(sessionWaitMin, sessionWaitMax, ended-1, nil)); err != nil {
			return nil, nil, err
		}
	}
}

// sessionEnded reports whether an answer says the session is no longer valid.
func (c *Client) sessionEnded(kind api, host string, status int, raw []byte) bool {
	if status != http.StatusUnauthorized {
		return false
	}
	return kind == metadataAPI || c.apiError(host, status, raw).Code == "401002"
}
