package server

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of an integration's config fields.
const (
	maxHostLen  = 253 // RFC 1123
	maxTextLen  = 255 // site_id, token_name
	maxTokenLen = 4096
)

// checkHost accepts what the server may contact as Tableau: an RFC 1123 host
// name, or an http(s) URL made only of scheme, host and port.
func checkHost(v string) error {
	if err := checkText(v, maxHostLen); err != nil {
		return err
	}
	if !strings.Contains(v, "://") {
		if !isHostName(v) {
			return fmt.Errorf("must be a host name such as 10az.online.tableau.com (letters, digits, hyphens and dots) or a URL such as https://tableau.example.com:8443")
		}
		return nil
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		return fmt.Errorf("is not a valid URL: use https://host or https://host:port")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("must use http or https, not %q", u.Scheme)
	case u.User != nil:
		return fmt.Errorf("must not carry user information; send credentials as token_name and token")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || (u.Path != "" && u.Path != "/"):
		return fmt.Errorf("must be only scheme, host and port, such as https://tableau.example.com:8443, without a path, query or fragment")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("has an invalid port %q", p)
		}
	}
	if h := u.Hostname(); net.ParseIP(h) == nil && !isHostName(h) {
		return fmt.Errorf("has an invalid host name %q", h)
	}
	return nil
}

// isHostName reports whether s is an RFC 1123 host name.
func isHostName(s string) bool {
	if s == "" || len(s) > maxHostLen {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return false
			}
		}
	}
	return true
}

// checkText accepts at most max characters of valid UTF-8 without control characters.
func checkText(v string, max int) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(v); n > max {
		return fmt.Errorf("is %d characters long; at most %d are allowed", n, max)
	}
	if i := strings.IndexFunc(v, unicode.IsControl); i >= 0 {
		return fmt.Errorf("must not contain control characters (found %U at byte %d)", []rune(v[i:])[0], i)
	}
	return nil
}

// checkTenant accepts an Entra ID tenant as Power BI's token URL takes it: a
// directory ID (GUID) or a domain such as contoso.onmicrosoft.com.
func checkTenant(v string) error {
	if err := checkText(v, maxHostLen); err != nil {
		return err
	}
	if !isHostName(v) {
		return fmt.Errorf("must be the Entra ID tenant (directory) ID, e.g. 72f988bf-86f1-41af-91ab-2d7cd011db47, or its domain, e.g. contoso.onmicrosoft.com")
	}
	return nil
}
