package provider

import (
	"context"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/diagnostics"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// Environment variables behind the provider's powerbi settings.
const (
	EnvPowerBITenantID     = "POWERBI_TENANT_ID"
	EnvPowerBIClientID     = "POWERBI_CLIENT_ID"
	EnvPowerBIClientSecret = "POWERBI_CLIENT_SECRET"
)

// powerbiSource is the provider process's Power BI connection and its one scan.
type powerbiSource struct {
	client *powerbi.Client
	tenant string
	sourceState

	mu      sync.Mutex
	result  *powerbi.ScanResult
	failure error
}

// powerbiBlock is the provider's powerbi settings.
var powerbiBlock = toolBlock{name: "powerbi", label: powerbi.Tool.Label, envPrefix: "POWERBI_",
	desc: "Where the `dbtexposures_powerbi_*` data sources read Power BI: an Entra ID app registration " +
		"(client credentials) whose service principal may use the read-only admin APIs, then the admin Scanner API. " +
		"The scan runs once per Terraform run, shared by all data sources.",
	settings: []setting{
		{attr: "tenant_id", env: EnvPowerBITenantID, required: true, desc: "Entra ID tenant (directory) ID or domain."},
		{attr: "client_id", env: EnvPowerBIClientID, required: true, desc: "Application (client) ID of the app registration."},
		{attr: "client_secret", env: EnvPowerBIClientSecret, required: true, sensitive: true, desc: "Client secret value."},
		{attr: "api_url", desc: "Power BI API base URL, for sovereign clouds or the emulator. Default `" + powerbi.DefaultAPIURL + "`."},
		{attr: "login_url", desc: "Entra ID login base URL. Default `" + powerbi.DefaultLoginURL + "`."},
	}}

func newPowerBISource(_ context.Context, obj types.Object, retry transport.RetryConfig, diags *diag.Diagnostics) *powerbiSource {
	v, why := powerbiBlock.read(obj, diags)
	if why != "" {
		return &powerbiSource{sourceState: sourceState{why}}
	}
	if diags.HasError() {
		return &powerbiSource{sourceState: sourceState{"the powerbi settings are incomplete"}}
	}
	client, err := powerbi.New(powerbi.Config{TenantID: v["tenant_id"], ClientID: v["client_id"], ClientSecret: v["client_secret"],
		APIURL: v["api_url"], LoginURL: v["login_url"], Retry: retry, Logger: clientLogger})
	if err != nil {
		diags.AddAttributeError(path.Root("powerbi"), "Invalid Power BI settings", err.Error())
		return &powerbiSource{sourceState: sourceState{err.Error()}}
	}
	return &powerbiSource{client: client, tenant: v["tenant_id"]}
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

// Tree is the scan as a connection's collections show it.
func (s *powerbiSource) Tree(ctx context.Context) (*bi.Tree, error) {
	res, err := s.Scan(ctx)
	if err != nil {
		return nil, err
	}
	return res.Tree(), nil
}

// powerbiFrom is the Power BI source for a data source; nil (with an error)
// when the provider has no Power BI settings, nil alone during validation.
func powerbiFrom(data any, diags *diag.Diagnostics) *powerbiSource {
	return configuredSource(data, diags, powerbi.Tool.Label, func(pd *providerData) *powerbiSource { return pd.powerbi })
}

// scanFailed explains a failed scan in the provider's arguments.
func (s *powerbiSource) scanFailed(err error, diags *diag.Diagnostics) {
	diags.Append(diagnostics.PowerBI("scan Power BI", s.tenant, err))
}

// powerbiData is a Power BI data source's shared part.
func powerbiData(typeName string) toolDataSource[*powerbiSource] {
	return toolDataSource[*powerbiSource]{typeName: typeName, from: powerbiFrom}
}
