package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func block(b toolBlock, values map[string]attr.Value) types.Object {
	types_ := map[string]attr.Type{}
	for _, s := range b.settings {
		types_[s.attr] = types.StringType
		if values[s.attr] == nil {
			values[s.attr] = types.StringNull()
		}
	}
	return types.ObjectValueMust(types_, values)
}

// Both tools' settings are read one way: block first, then the environment;
// an explicit "" site ID wins; what is missing or unknown is named as written.
func TestToolSettingsReadOneWay(t *testing.T) {
	t.Setenv(EnvTableauSiteID, "from-env")
	t.Setenv(EnvTableauToken, "tok-env")
	var diags diag.Diagnostics
	v, why := tableauBlock.read(block(tableauBlock, map[string]attr.Value{"host": types.StringValue("h"), "site_id": types.StringValue(""),
		"token_name": types.StringValue("n")}), &diags)
	if why != "" || diags.HasError() || v["site_id"] != "" || v["token"] != "tok-env" {
		t.Fatalf("tableau: %v %q %v", v, why, diags)
	}
	t.Setenv(EnvPowerBIClientSecret, "")
	v, why = powerbiBlock.read(block(powerbiBlock, map[string]attr.Value{"tenant_id": types.StringValue("contoso"),
		"client_id": types.StringUnknown()}), &diags)
	var got []string
	for _, d := range diags {
		got = append(got, d.Summary()+": "+d.Detail())
	}
	text := strings.Join(got, "\n")
	if why != "" || v["tenant_id"] != "contoso" || !strings.Contains(text, "Unknown Power BI setting: powerbi.client_id is only known after apply") ||
		!strings.Contains(text, "Missing Power BI client_secret: Set powerbi.client_secret in the provider block or the POWERBI_CLIENT_SECRET environment variable.") {
		t.Fatalf("powerbi: %q\n%s", why, text)
	}
	t.Setenv(EnvPowerBITenantID, "")
	t.Setenv(EnvPowerBIClientID, "")
	_, why = powerbiBlock.read(types.ObjectNull(block(powerbiBlock, map[string]attr.Value{}).AttributeTypes(t.Context())), &diags)
	if why != "Power BI is not configured. Set the provider's powerbi = { tenant_id, client_id, client_secret } or the POWERBI_TENANT_ID, POWERBI_CLIENT_ID and POWERBI_CLIENT_SECRET environment variables." {
		t.Fatalf("not configured: %q", why)
	}
}
