package provider

import (
	"context"
	"fmt"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// Environment variables behind the provider's powerbi settings.
const (
	EnvPowerBITenantID     = "POWERBI_TENANT_ID"
	EnvPowerBIClientID     = "POWERBI_CLIENT_ID"
	EnvPowerBIClientSecret = "POWERBI_CLIENT_SECRET"
)

type powerbiModel struct {
	TenantID     types.String `tfsdk:"tenant_id"`
	ClientID     types.String `tfsdk:"client_id"`
	ClientSecret types.String `tfsdk:"client_secret"`
	APIURL       types.String `tfsdk:"api_url"`
	LoginURL     types.String `tfsdk:"login_url"`
}

func powerbiProviderAttribute() schema.Attribute {
	return schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: "Where the `dbtexposures_powerbi_*` data sources read Power BI: an Entra ID app registration " +
			"(client credentials) whose service principal may use the read-only admin APIs, then the admin Scanner API. " +
			"The scan runs once per Terraform run, shared by all data sources.",
		Attributes: map[string]schema.Attribute{
			"tenant_id":     schema.StringAttribute{Optional: true, MarkdownDescription: "Entra ID tenant (directory) ID or domain. Defaults to `" + EnvPowerBITenantID + "`."},
			"client_id":     schema.StringAttribute{Optional: true, MarkdownDescription: "Application (client) ID of the app registration. Defaults to `" + EnvPowerBIClientID + "`."},
			"client_secret": schema.StringAttribute{Optional: true, Sensitive: true, MarkdownDescription: "Client secret value. Defaults to `" + EnvPowerBIClientSecret + "`."},
			"api_url":       schema.StringAttribute{Optional: true, MarkdownDescription: "Power BI API base URL, for sovereign clouds or the emulator. Default `" + powerbi.DefaultAPIURL + "`."},
			"login_url":     schema.StringAttribute{Optional: true, MarkdownDescription: "Entra ID login base URL. Default `" + powerbi.DefaultLoginURL + "`."},
		},
	}
}

// powerbiSource is the provider process's Power BI connection and its one scan.
type powerbiSource struct {
	client *powerbi.Client
	tenant string
	err    string // why client is nil

	mu      sync.Mutex
	result  *powerbi.ScanResult
	failure error
}

func newPowerBISource(ctx context.Context, obj types.Object, retry transport.RetryConfig, diags *diag.Diagnostics) *powerbiSource {
	var m powerbiModel
	if obj.IsUnknown() {
		diags.AddAttributeError(path.Root("powerbi"), "Unknown Power BI settings", "The provider's powerbi settings depend on values only known after apply; use known values or the POWERBI_* environment variables.")
		return &powerbiSource{err: "the powerbi settings are unknown"}
	}
	if !obj.IsNull() {
		diags.Append(obj.As(ctx, &m, basetypes.ObjectAsOptions{})...)
	}
	tenant := stringOrEnv(m.TenantID, EnvPowerBITenantID)
	clientID := stringOrEnv(m.ClientID, EnvPowerBIClientID)
	secret := stringOrEnv(m.ClientSecret, EnvPowerBIClientSecret)
	if tenant == "" && clientID == "" && secret == "" {
		return &powerbiSource{err: fmt.Sprintf("Power BI is not configured. Set the provider's powerbi = { tenant_id, client_id, client_secret } or the %s, %s and %s environment variables.",
			EnvPowerBITenantID, EnvPowerBIClientID, EnvPowerBIClientSecret)}
	}
	for _, s := range []struct{ attr, env, v string }{{"tenant_id", EnvPowerBITenantID, tenant}, {"client_id", EnvPowerBIClientID, clientID}, {"client_secret", EnvPowerBIClientSecret, secret}} {
		if s.v == "" {
			diags.AddAttributeError(path.Root("powerbi").AtName(s.attr), "Missing Power BI "+s.attr,
				fmt.Sprintf("Set powerbi.%s in the provider block or the %s environment variable.", s.attr, s.env))
		}
	}
	if diags.HasError() {
		return &powerbiSource{err: "the powerbi settings are incomplete"}
	}
	client, err := powerbi.New(powerbi.Config{TenantID: tenant, ClientID: clientID, ClientSecret: secret,
		APIURL: m.APIURL.ValueString(), LoginURL: m.LoginURL.ValueString(), Retry: retry, Logger: clientLogger})
	if err != nil {
		diags.AddAttributeError(path.Root("powerbi"), "Invalid Power BI settings", err.Error())
		return &powerbiSource{err: err.Error()}
	}
	return &powerbiSource{client: client, tenant: tenant}
}

// Scan scans every workspace once per provider process: a fixed number of
// calls, however many reports there are.
func (s *powerbiSource) Scan(ctx context.Context) (*powerbi.ScanResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failure != nil || s.result != nil {
		return s.result, s.failure
	}
	ids, err := s.client.ModifiedWorkspaces(ctx)
	if err == nil {
		s.result, err = s.client.Scan(ctx, ids)
	}
	if err != nil && ctx.Err() == nil {
		s.failure, s.result = err, nil
	}
	return s.result, err
}

// powerbiFrom is the Power BI source for a data source; nil (with an error)
// when the provider has no Power BI settings, nil alone during validation.
func powerbiFrom(data any, diags *diag.Diagnostics) *powerbiSource {
	return configuredSource(data, diags, powerbi.Tool.Label, func(pd *providerData) *powerbiSource { return pd.powerbi })
}

// unavailable says why the source cannot be used, or "".
func (s *powerbiSource) unavailable() string {
	switch {
	case s == nil:
		return "Power BI is not configured."
	case s.client == nil:
		return s.err
	}
	return ""
}

// scanFailed explains a failed scan: Power BI's error says what to change.
func scanFailed(err error, diags *diag.Diagnostics) {
	diags.AddError("Could not scan Power BI",
		"The provider could not read Power BI's workspaces through the admin Scanner API: "+err.Error()+
			". Nothing else in the plan depends on this read; fix the setting named and plan again.")
}
