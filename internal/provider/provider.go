// Package provider implements the dbtexposures Terraform provider.
package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// Environment variables, named as in dbt's official provider so setups carry over.
const (
	EnvHostURL   = "DBT_CLOUD_HOST_URL"
	EnvAccountID = "DBT_CLOUD_ACCOUNT_ID"
	EnvToken     = "DBT_CLOUD_TOKEN"
	EnvRate      = "DBT_CLOUD_MAX_REQUESTS_PER_MINUTE"
)

// DefaultRequestsPerMinute is a fifth of dbt Cloud's 5,000 per account, so
// that a few plans at once (several pull requests) leave room for the UI and
// other tools.
const DefaultRequestsPerMinute = 1000

var _ provider.Provider = (*dbtexposuresProvider)(nil)

type dbtexposuresProvider struct {
	version string
	data    atomic.Pointer[providerData] // the last Configure's, for the direct reads
}

// configured is what the last Configure made, nil before it.
func (p *dbtexposuresProvider) configured() *providerData { return p.data.Load() }

// New returns the provider factory used by main and by tests.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &dbtexposuresProvider{version: version} }
}

type providerModel struct {
	HostURL               types.String `tfsdk:"host_url"`
	AccountID             types.Int64  `tfsdk:"account_id"`
	Token                 types.String `tfsdk:"token"`
	MaxRetries            types.Int64  `tfsdk:"max_retries"`
	RetryWaitMaxSeconds   types.Int64  `tfsdk:"retry_wait_max_seconds"`
	RequestTimeoutSeconds types.Int64  `tfsdk:"request_timeout_seconds"`
	MaxRequestsPerMinute  types.Int64  `tfsdk:"max_requests_per_minute"`
	Tableau               types.Object `tfsdk:"tableau"`
	PowerBI               types.Object `tfsdk:"powerbi"`
}

func (p *dbtexposuresProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "dbtexposures"
	resp.Version = p.version
}

func (p *dbtexposuresProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Declare dbt auto-exposures as code: the dbt Cloud project's Tableau and Power BI connections, " +
			"which folders and dashboards they import, active exposures (refreshes of the dashboards' data after dbt builds) per " +
			"environment, and discovery of Tableau and Power BI content. " +
			"Works against dbt Cloud and against the self-hostable `dbtexposures-server`.",
		Attributes: map[string]schema.Attribute{
			"host_url": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Base URL of the dbt Cloud API, including `/api`. Defaults to the `" + EnvHostURL +
					"` environment variable, then `" + dbtcloud.DefaultHostURL + "`. For dbtexposures-server use e.g. `http://127.0.0.1:8484/api`.",
			},
			"account_id": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "dbt Cloud account ID. Defaults to the `" + EnvAccountID + "` environment variable.",
				Validators:          []validator.Int64{int64validator.AtLeast(1)},
			},
			"token": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "dbt Cloud API token (service or personal access token). Defaults to the `" + EnvToken + "` environment variable.",
			},
			"max_retries": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "How many times a request that failed with a network error, 429 or 5xx is retried, with exponential backoff that honours `Retry-After`. Default `4`.",
				Validators:          []validator.Int64{int64validator.Between(0, 20)},
			},
			"retry_wait_max_seconds": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Longest wait between retries, in seconds, unless the server asks for longer with `Retry-After`. Default `15`.",
				Validators:          []validator.Int64{int64validator.Between(1, 300)},
			},
			"request_timeout_seconds": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Timeout of one HTTP request, in seconds. Default `60`.",
				Validators:          []validator.Int64{int64validator.Between(1, 600)},
			},
			"max_requests_per_minute": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("Most dbt Cloud requests this provider sends a minute, shared by all its resources (`0`: no limit). "+
					"dbt Cloud allows %d a minute per account, its UI and other tools included, then answers `429` and pauses the account for "+
					"minutes; a 2,000-folder selection plan walks 2,001 collections, so three such plans at once would pass it. A `429` makes "+
					"every request of the provider wait its `Retry-After`. Defaults to the `%s` environment variable, then `%d`.",
					dbtcloud.AccountRateLimit, EnvRate, DefaultRequestsPerMinute),
				Validators: []validator.Int64{int64validator.Between(0, 100000)},
			},
			"tableau": tableauBlock.attribute(),
			"powerbi": powerbiBlock.attribute(),
		},
	}
}

// providerData is what resources and data sources get from Configure.
type providerData struct {
	dbt     *dbtcloud.Client
	dbtErr  string // why dbt is nil: the resources show it when they need a client
	tableau *tableauSource
	powerbi *powerbiSource
	trees   treeCache // collections walks of this process
}

func (p *dbtexposuresProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for name, v := range map[string]interface{ IsUnknown() bool }{
		"host_url": cfg.HostURL, "account_id": cfg.AccountID, "token": cfg.Token,
		"max_retries": cfg.MaxRetries, "retry_wait_max_seconds": cfg.RetryWaitMaxSeconds, "request_timeout_seconds": cfg.RequestTimeoutSeconds,
		"max_requests_per_minute": cfg.MaxRequestsPerMinute,
	} {
		if v.IsUnknown() {
			resp.Diagnostics.AddAttributeError(path.Root(name), "Unknown provider value for "+name,
				fmt.Sprintf("The provider's %s depends on a value that is only known after apply. Set it to a known value, or leave it out and set the matching DBT_CLOUD_* environment variable.", name))
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}

	retry := transport.DefaultRetryConfig()
	if !cfg.MaxRetries.IsNull() {
		retry.MaxRetries = int(cfg.MaxRetries.ValueInt64())
	}
	if !cfg.RetryWaitMaxSeconds.IsNull() {
		retry.WaitMax = time.Duration(cfg.RetryWaitMaxSeconds.ValueInt64()) * time.Second
	}
	if !cfg.RequestTimeoutSeconds.IsNull() {
		retry.Timeout = time.Duration(cfg.RequestTimeoutSeconds.ValueInt64()) * time.Second
	}

	data := &providerData{}
	data.dbt, data.dbtErr = p.dbtClient(ctx, cfg, retry, req.TerraformVersion, &resp.Diagnostics)
	data.tableau = newTableauSource(ctx, cfg.Tableau, retry, p.userAgent(req.TerraformVersion), &resp.Diagnostics)
	data.powerbi = newPowerBISource(ctx, cfg.PowerBI, retry, &resp.Diagnostics)
	p.data.Store(data)
	resp.ResourceData = data
	resp.DataSourceData = data
}

// dbtClient resolves the dbt Cloud settings. A setting that is given but wrong is
// an attribute error now; settings that are all absent are only an error for the
// resources that need dbt Cloud (Tableau discovery works without it).
func (p *dbtexposuresProvider) dbtClient(ctx context.Context, cfg providerModel, retry transport.RetryConfig, tfVersion string, diags *diag.Diagnostics) (*dbtcloud.Client, string) {
	hostURL := stringOrEnv(cfg.HostURL, EnvHostURL)
	token := stringOrEnv(cfg.Token, EnvToken)
	accountID, accountGiven, ok := accountIDOf(cfg, diags)
	if !ok {
		return nil, ""
	}
	if hostURL != "" {
		if u, err := url.Parse(hostURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			diags.AddAttributeError(path.Root("host_url"), "Invalid host_url",
				fmt.Sprintf("host_url (or %s) must be an absolute http(s) URL including /api, such as %s; got %q.", EnvHostURL, dbtcloud.DefaultHostURL, hostURL))
			return nil, ""
		}
	}
	if token == "" && !accountGiven {
		return nil, fmt.Sprintf("The dbt Cloud connection is not configured: set the provider's account_id and token, or the %s and %s environment variables.", EnvAccountID, EnvToken)
	}
	if token == "" {
		diags.AddAttributeError(path.Root("token"), "Missing dbt Cloud API token",
			fmt.Sprintf("Set the provider's token argument or the %s environment variable to a dbt Cloud API token.", EnvToken))
	}
	if !accountGiven {
		diags.AddAttributeError(path.Root("account_id"), "Missing dbt Cloud account ID",
			fmt.Sprintf("Set the provider's account_id argument or the %s environment variable (the number in your dbt Cloud URL after /accounts/).", EnvAccountID))
	}
	if diags.HasError() {
		return nil, ""
	}
	perMinute, ok := requestsPerMinute(cfg.MaxRequestsPerMinute, diags)
	if !ok {
		return nil, ""
	}
	client, err := dbtcloud.New(dbtcloud.Config{
		HostURL:   hostURL,
		AccountID: accountID,
		Token:     token,
		UserAgent: p.userAgent(tfVersion),
		Retry:     retry,
		Logger:    clientLogger,
		Throttle:  sharedThrottle(hostURL, accountID, perMinute),
	})
	if err != nil {
		diags.AddAttributeError(path.Root("host_url"), "Invalid dbt Cloud settings", err.Error())
		return nil, ""
	}
	tflog.Debug(ctx, "configured dbt Cloud client", map[string]any{"host_url": hostURL, "account_id": accountID})
	if refusedToken(ctx, client) {
		diags.AddAttributeError(path.Root("token"), "dbt Cloud refused the API token",
			fmt.Sprintf("dbt Cloud at %s answered 401 Unauthorized to the provider's token. Check the provider's token (or %s): "+
				"it may be mistyped, revoked or expired. Nothing was planned or changed.", client.HostURL(), EnvToken))
		return nil, ""
	}
	return client, ""
}

// accountIDOf resolves account_id: the argument, else the environment. ok is
// false when the environment's value is not an account ID (an error is added).
func accountIDOf(cfg providerModel, diags *diag.Diagnostics) (id int64, given, ok bool) {
	if !cfg.AccountID.IsNull() {
		return cfg.AccountID.ValueInt64(), true, true
	}
	v := os.Getenv(EnvAccountID)
	if v == "" {
		return 0, false, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		diags.AddAttributeError(path.Root("account_id"), "Invalid "+EnvAccountID,
			fmt.Sprintf("The %s environment variable must be a positive whole number (the number in your dbt Cloud URL after /accounts/), got %q.", EnvAccountID, v))
		return 0, true, false
	}
	return n, true, true
}

// tokenCheckTimeout bounds the check of the token when the provider is
// configured: a slow dbt Cloud must not hold up plans that need only discovery.
const tokenCheckTimeout = 10 * time.Second

// refusedToken reports whether dbt Cloud refuses the client's token outright
// (401), with one light request when the provider is configured, so that a
// wrong token is one error rather than one per resource. Any other answer or
// failure is left to the resources, which report it in their own terms.
func refusedToken(ctx context.Context, client *dbtcloud.Client) bool {
	ctx, cancel := context.WithTimeout(ctx, tokenCheckTimeout)
	defer cancel()
	_, err := client.ListAccounts(ctx)
	var apiErr *dbtcloud.APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnauthorized
}

// requestsPerMinute resolves max_requests_per_minute: the argument, the
// environment, or the default.
func requestsPerMinute(v types.Int64, diags *diag.Diagnostics) (int, bool) {
	if !v.IsNull() {
		return int(v.ValueInt64()), true
	}
	env := os.Getenv(EnvRate)
	if env == "" {
		return DefaultRequestsPerMinute, true
	}
	n, err := strconv.Atoi(env)
	if err != nil || n < 0 {
		diags.AddAttributeError(path.Root("max_requests_per_minute"), "Invalid "+EnvRate,
			fmt.Sprintf("The %s environment variable must be a whole number of requests a minute, 0 for no limit; got %q.", EnvRate, env))
		return 0, false
	}
	return n, true
}

// throttles are the provider process's: every dbt Cloud client of the process
// for one account (host and account ID) shares one, so all resources together
// keep to it; the lowest rate configured for the account wins.
var throttles = struct {
	sync.Mutex
	by map[string]*transport.Throttle
}{by: map[string]*transport.Throttle{}}

func sharedThrottle(hostURL string, accountID int64, perMinute int) *transport.Throttle {
	key := fmt.Sprintf("%s|%d", hostURL, accountID)
	throttles.Lock()
	defer throttles.Unlock()
	t := throttles.by[key]
	if t == nil {
		t = transport.NewThrottle(perMinute)
		throttles.by[key] = t
	}
	t.Lower(perMinute)
	return t
}

func (p *dbtexposuresProvider) userAgent(tfVersion string) string {
	return fmt.Sprintf("terraform-provider-dbtexposures/%s (+https://registry.terraform.io/providers/dbtexposures/dbtexposures) Terraform/%s", p.version, tfVersion)
}

func stringOrEnv(v types.String, env string) string {
	if !v.IsNull() && v.ValueString() != "" {
		return v.ValueString()
	}
	return os.Getenv(env)
}

func (p *dbtexposuresProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewTableauConnectionResource,
		NewPowerBIConnectionResource,
		NewAutoExposureSelectionResource,
		NewActiveExposuresResource,
	}
}

func (p *dbtexposuresProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewTableauProjectsDataSource,
		NewTableauWorkbooksDataSource,
		NewExposuresDataSource,
		NewImpactDataSource,
		NewPowerBIWorkspacesDataSource,
		NewPowerBIReportsDataSource,
		NewEnvironmentsDataSource,
	}
}

// sourceState is what every tool source knows of itself: why it has no
// client ("" when it has one).
type sourceState struct{ err string }

// unavailable says why the source cannot be used, or "": a source has
// either a client or the reason it has none.
func (s sourceState) unavailable() string { return s.err }

// configuredSource is a BI tool's source for a data source, adding an error
// that says why when the provider has no usable settings for the tool. It
// returns nil alone while the provider is not configured yet (validation).
func configuredSource[S interface{ unavailable() string }](data any, diags *diag.Diagnostics, tool string, pick func(*providerData) S) S {
	var none S
	pd := providerDataFrom(data, diags)
	if pd == nil {
		return none
	}
	s := pick(pd)
	if why := s.unavailable(); why != "" {
		diags.AddError(tool+" connection not configured", why)
		return none
	}
	return s
}

// providerDataFrom unpacks what Configure gave a resource or data source. It
// returns nil while the provider is not configured yet (validation).
func providerDataFrom(data any, diags *diag.Diagnostics) *providerData {
	if data == nil {
		return nil
	}
	pd, ok := data.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider; please report it.", data))
	}
	return pd
}

// dbtClientFrom is the dbt Cloud client for a resource, adding an error when
// the provider has no dbt Cloud connection. It returns nil while unconfigured.
func dbtClientFrom(data any, diags *diag.Diagnostics) *dbtcloud.Client {
	pd := providerDataFrom(data, diags)
	if pd == nil {
		return nil
	}
	if pd.dbt == nil {
		diags.AddError("dbt Cloud connection not configured", pd.dbtErr)
	}
	return pd.dbt
}
