package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
)

// Hosts the server must never store or contact: each PATCH is refused with a
// 400 naming the field, and the integration keeps what it had.
func TestBadTableauHostsAreRefusedAndNothingIsStored(t *testing.T) {
	srv := servertest.New(t)
	host, site, name, tok := "10az.online.tableau.com", "acme", "pat", "secret"
	in, err := srv.Client(t).CreateLineageIntegration(context.Background(), srv.ProjectID, dbtcloud.CreateLineageIntegrationRequest{
		Name: "tableau", Config: dbtcloud.IntegrationConfig{Host: &host, SiteID: &site, TokenName: &name, Token: &tok}})
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("%s/v3/accounts/1/projects/1/integrations/lineage/%d/", srv.HostURL, in.ID)
	bad := map[string]struct{ field, value, want string }{
		"NUL":               {"host", "tableau\x00.example.com", "control characters"},
		"100,000 chars":     {"host", strings.Repeat("a", 100000), "at most 253"},
		"1,000 emoji":       {"host", strings.Repeat("📊", 1000), "at most 253"},
		"path traversal":    {"host", "../../etc/passwd", "must be a host name"},
		"URL with path":     {"host", "https://tableau.example.com/api", "without a path"},
		"URL with query":    {"host", "https://tableau.example.com?x=1", "without a path, query"},
		"URL with userinfo": {"host", "https://u:p@tableau.example.com", "user information"},
		"ftp URL":           {"host", "ftp://tableau.example.com", "http or https"},
		"bad port":          {"host", "https://tableau.example.com:99999", "invalid port"},
		"label too long":    {"host", strings.Repeat("a", 64) + ".example.com", "must be a host name"},
		"site_id too long":  {"site_id", strings.Repeat("s", 256), "at most 255"},
		"site_id newline":   {"site_id", "acme\nX-Injected: 1", "control characters"},
		"token_name tab":    {"token_name", "pat\tname", "control characters"},
	}
	for label, c := range bad {
		body, _ := json.Marshal(map[string]any{"config": map[string]any{c.field: c.value}})
		code, b := rawCall(t, "PATCH", url, srv.Token, body)
		if code != 400 || !strings.Contains(string(b), `Invalid field \"config.`+c.field+`\"`) || !strings.Contains(string(b), c.want) {
			t.Errorf("%s: %d %s", label, code, b)
		}
	}
	got, err := srv.Store.GetIntegration(context.Background(), 1, 1, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Config["host"] != host || got.Config["site_id"] != site || got.Config["token_name"] != name {
		t.Fatalf("a refused PATCH changed the integration: %+v", got)
	}
	for _, good := range []string{"tableau.example.com", "http://127.0.0.1:8485", "https://[::1]:8443", "https://tableau.example.com/"} {
		body, _ := json.Marshal(map[string]any{"config": map[string]any{"host": good}})
		if code, b := rawCall(t, "PATCH", url, srv.Token, body); code != 200 {
			t.Errorf("good host %q refused: %d %s", good, code, b)
		}
	}
}

// An integration pointing at the cloud metadata address is never contacted:
// reading its folders answers 400 naming config.host.
func TestMetadataAddressIsNeverContacted(t *testing.T) {
	srv := servertest.New(t)
	host, site, name, tok := "http://169.254.169.254", "", "pat", "secret"
	in, err := srv.Client(t).CreateLineageIntegration(context.Background(), srv.ProjectID, dbtcloud.CreateLineageIntegrationRequest{
		Name: "tableau", Config: dbtcloud.IntegrationConfig{Host: &host, SiteID: &site, TokenName: &name, Token: &tok}})
	if err != nil {
		t.Fatal(err)
	}
	code, b := rawCall(t, "GET", fmt.Sprintf("%s/v3/accounts/1/projects/1/integrations/lineage/%d/collections/", srv.HostURL, in.ID), srv.Token, nil)
	if code != 400 || !strings.Contains(string(b), `Invalid field \"config.host\"`) || !strings.Contains(string(b), "link-local or cloud-metadata") {
		t.Fatalf("collections of an integration at 169.254.169.254: %d %s", code, b)
	}
}
