package dbtcloud

import "testing"

func TestIntegrationConfigFieldByAPIName(t *testing.T) {
	var c IntegrationConfig
	site := "acme"
	*c.Field("site_id") = &site
	if c.SiteID == nil || *c.SiteID != "acme" {
		t.Fatalf("Field(site_id) did not set SiteID: %+v", c)
	}
	if got := *c.Field("site_id"); got != &site {
		t.Fatalf("Field(site_id) reads %v", got)
	}
	if c.Field("client_secret") == nil || *c.Field("client_secret") != nil {
		t.Fatal("client_secret is a field, unset")
	}
	if c.Field("no_such_field") != nil {
		t.Fatal("an unknown name has a field")
	}
}
