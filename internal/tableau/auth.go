package tableau

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
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

// SignOut ends the session, if any. Call it when done with the client.
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
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		return c.apiError(server.Host, resp.StatusCode, raw)
	}
	return nil
}

// authed runs call with a session; when Tableau says the session is invalid
// (401002), it signs in again once and retries.
func (c *Client) authed(ctx context.Context, call func(s *session, version string, server *url.URL) (*http.Response, []byte, error)) (*http.Response, []byte, error) {
	for attempt := 0; ; attempt++ {
		s, v, server, err := c.ensureSession(ctx)
		if err != nil {
			return nil, nil, err
		}
		resp, raw, err := call(s, v, server)
		if err != nil {
			return nil, nil, err
		}
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 && c.apiError(server.Host, resp.StatusCode, raw).Code == "401002" {
			c.dropSession(s)
			continue
		}
		return resp, raw, nil
	}
}
