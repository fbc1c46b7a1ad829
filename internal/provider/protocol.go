package provider

import (
	"context"
	"fmt"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// directReads are the data sources whose ReadDataSource is answered here, on
// the plugin protocol, rather than by the framework. Their results are large
// (10,000 workbooks), and after a Read the framework copies the result twice,
// converts it for a semantic-equality check and compares it node by node:
// more time than the read itself. Everything else, validation of these same
// data sources included, is the framework's.
var directReads = map[string]func() datasource.DataSource{ // each a largeResult
	"dbtexposures_tableau_workbooks": NewTableauWorkbooksDataSource,
	"dbtexposures_exposures":         NewExposuresDataSource,
	"dbtexposures_powerbi_reports":   NewPowerBIReportsDataSource,
	"dbtexposures_impact":            NewImpactDataSource,
}

// NewProtocol6 returns the provider's plugin server: the framework's, with
// ReadDataSource of directReads answered directly.
func NewProtocol6(version string) func() (tfprotov6.ProviderServer, error) {
	return func() (tfprotov6.ProviderServer, error) {
		p := &dbtexposuresProvider{version: version}
		fw, err := providerserver.NewProtocol6WithError(p)()
		if err != nil {
			return nil, err
		}
		return &protocolServer{ProviderServer: fw, provider: p}, nil
	}
}

type protocolServer struct {
	tfprotov6.ProviderServer
	provider *dbtexposuresProvider

	once    sync.Once
	schemas map[string]*tfprotov6.Schema
	err     error
}

func (s *protocolServer) dataSourceType(ctx context.Context, name string) (tftypes.Type, error) {
	s.once.Do(func() {
		resp, err := s.ProviderServer.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
		if err != nil {
			s.err = err
			return
		}
		s.schemas = resp.DataSourceSchemas
	})
	if s.err != nil {
		return nil, s.err
	}
	return s.schemas[name].ValueType(), nil
}

func (s *protocolServer) ReadDataSource(ctx context.Context, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	newDataSource, ok := directReads[req.TypeName]
	if !ok {
		return s.ProviderServer.ReadDataSource(ctx, req)
	}
	typ, err := s.dataSourceType(ctx, req.TypeName)
	if err != nil {
		return nil, err
	}
	raw, err := req.Config.Unmarshal(typ)
	if err != nil {
		return nil, fmt.Errorf("decoding the configuration of %s: %w", req.TypeName, err)
	}
	var diags diag.Diagnostics
	results := readDirect(ctx, newDataSource(), s.provider.configured(), raw, &diags)
	resp := &tfprotov6.ReadDataSourceResponse{Diagnostics: protocolDiagnostics(diags)}
	if diags.HasError() {
		return resp, nil
	}
	dv, err := packState(typ.(tftypes.Object), raw, results)
	if err != nil {
		return nil, fmt.Errorf("encoding the result of %s: %w", req.TypeName, err)
	}
	resp.State = &dv
	return resp, nil
}

// readDirect configures and describes a data source as the framework would,
// and computes its result.
func readDirect(ctx context.Context, ds datasource.DataSource, data *providerData, config tftypes.Value, diags *diag.Diagnostics) map[string]resultAttr {
	if c, ok := ds.(datasource.DataSourceWithConfigure); ok {
		var cr datasource.ConfigureResponse
		c.Configure(ctx, datasource.ConfigureRequest{ProviderData: data}, &cr)
		if diags.Append(cr.Diagnostics...); diags.HasError() {
			return nil
		}
	}
	var sr datasource.SchemaResponse
	ds.Schema(ctx, datasource.SchemaRequest{}, &sr)
	return ds.(largeResult).results(ctx, tfsdk.Config{Schema: sr.Schema, Raw: config}, diags)
}

// protocolDiagnostics converts diagnostics to the plugin protocol's.
func protocolDiagnostics(diags diag.Diagnostics) []*tfprotov6.Diagnostic {
	out := make([]*tfprotov6.Diagnostic, 0, len(diags))
	for _, d := range diags {
		pd := &tfprotov6.Diagnostic{Severity: tfprotov6.DiagnosticSeverityError, Summary: d.Summary(), Detail: d.Detail()}
		if d.Severity() == diag.SeverityWarning {
			pd.Severity = tfprotov6.DiagnosticSeverityWarning
		}
		if wp, ok := d.(diag.DiagnosticWithPath); ok {
			pd.Attribute = protocolPath(wp.Path())
		}
		out = append(out, pd)
	}
	return out
}

// protocolPath converts an attribute path; the data sources only name
// attributes and list elements.
func protocolPath(p path.Path) *tftypes.AttributePath {
	out := tftypes.NewAttributePath()
	for _, step := range p.Steps() {
		switch s := step.(type) {
		case path.PathStepAttributeName:
			out = out.WithAttributeName(string(s))
		case path.PathStepElementKeyInt:
			out = out.WithElementKeyInt(int(s))
		case path.PathStepElementKeyString:
			out = out.WithElementKeyString(string(s))
		default:
			return out
		}
	}
	return out
}
