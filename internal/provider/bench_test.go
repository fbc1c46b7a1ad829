package provider

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/heaptest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/impact/benchproject"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// benchSiteOptions is a Tableau site of 10,000 workbooks with 1 to 4 tables
// each, whose sheets use 20 to 40 columns.
var benchSiteOptions = emulator.GenerateOptions{Workbooks: 10000, TablesPerWorkbook: 4, VaryTables: true, Columns: true}

// benchLatency is the network's delay of every Tableau answer.
const benchLatency = 20 * time.Millisecond

// benchTarget is where a benchmark's site answers, and when it last did.
type benchTarget struct {
	url        string
	f          *emulator.Fixture
	lastAnswer func() time.Time
}

// benchSite serves the site in this process; separate, when the heap and
// the collector measured must be the provider's alone, in a process of its own.
func benchSite(b *testing.B, separate bool) benchTarget {
	b.Helper()
	f := emulator.Generate(benchSiteOptions)
	if separate {
		url, last := tableautest.Child(b, benchSiteOptions, benchLatency)
		f.Workbooks, f.Fields = nil, nil
		return benchTarget{url, f, last}
	}
	emu, srv := tableautest.NewServer(b, f)
	emu.Latency = benchLatency
	return benchTarget{srv.URL, f, emu.LastAnswer}
}

// protocolValue encodes v as the msgpack a Terraform CLI sends for typ.
func protocolValue(b *testing.B, typ tftypes.Type, v tftypes.Value) *tfprotov6.DynamicValue {
	b.Helper()
	dv, err := tfprotov6.NewDynamicValue(typ, v)
	if err != nil {
		b.Fatal(err)
	}
	return &dv
}

// nullObject is a value of typ with every attribute null but those given.
func nullObject(typ tftypes.Object, set map[string]tftypes.Value) tftypes.Value {
	vals := map[string]tftypes.Value{}
	for name, t := range typ.AttributeTypes {
		if v, ok := set[name]; ok {
			vals[name] = v
			continue
		}
		vals[name] = tftypes.NewValue(t, nil)
	}
	return tftypes.NewValue(typ, vals)
}

// configuredProvider starts a fresh provider (so nothing is cached from an
// earlier iteration) and configures it for the site, as Terraform does.
func configuredProvider(b *testing.B, url string, f *emulator.Fixture) (tfprotov6.ProviderServer, *tfprotov6.GetProviderSchemaResponse) {
	b.Helper()
	ctx := context.Background()
	p, err := NewProtocol6("bench")()
	if err != nil {
		b.Fatal(err)
	}
	schemas, err := p.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		b.Fatal(err)
	}
	ptype := schemas.Provider.ValueType().(tftypes.Object)
	tabType := ptype.AttributeTypes["tableau"].(tftypes.Object)
	cfg := nullObject(ptype, map[string]tftypes.Value{"tableau": nullObject(tabType, map[string]tftypes.Value{
		"host":       tftypes.NewValue(tftypes.String, url),
		"site_id":    tftypes.NewValue(tftypes.String, f.Site.ContentURL),
		"token_name": tftypes.NewValue(tftypes.String, f.PersonalAccessToken.Name),
		"token":      tftypes.NewValue(tftypes.String, f.PersonalAccessToken.Secret),
	})})
	resp, err := p.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{TerraformVersion: "1.11.4", Config: protocolValue(b, ptype, cfg)})
	if err != nil || len(resp.Diagnostics) > 0 {
		b.Fatalf("configure: %v %v", err, resp.Diagnostics)
	}
	return p, schemas
}

// benchReadDataSource reads a data source through the plugin protocol, as
// Terraform does in a plan, and reports the wait that is the provider's own:
// from the emulator's last answer to the protocol response.
func benchReadDataSource(b *testing.B, typeName string, separate bool, set func(f *emulator.Fixture) map[string]tftypes.Value) {
	site := benchSite(b, separate)
	f := site.f
	ctx := context.Background()
	var after, total time.Duration
	var afters []time.Duration
	watch := heaptest.Start()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p, schemas := configuredProvider(b, site.url, f)
		dtype := schemas.DataSourceSchemas[typeName].ValueType().(tftypes.Object)
		req := &tfprotov6.ReadDataSourceRequest{TypeName: typeName, Config: protocolValue(b, dtype, nullObject(dtype, set(f)))}
		b.StartTimer()
		start := time.Now()
		resp, err := p.ReadDataSource(ctx, req)
		end := time.Now()
		if err != nil || len(resp.Diagnostics) > 0 {
			b.Fatalf("read: %v %v", err, resp.Diagnostics)
		}
		afters = append(afters, end.Sub(site.lastAnswer()))
		after += afters[len(afters)-1]
		total += end.Sub(start)
	}
	b.StopTimer()
	peak, _ := watch.Stop()
	b.ReportMetric(float64(after.Milliseconds())/float64(b.N), "ms-after-last-answer")
	slices.Sort(afters) // the median too: one collection at the wrong moment moves the mean
	b.ReportMetric(float64(afters[len(afters)/2].Milliseconds()), "ms-after-last-answer-median")
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-total")
	b.ReportMetric(heaptest.MB(peak), "peak-heap-MB")
}

// BenchmarkReadWorkbooks10000 is dbtexposures_tableau_workbooks with no filter
// over 10,000 workbooks, through the plugin protocol.
func BenchmarkReadWorkbooks10000(b *testing.B) {
	benchReadDataSource(b, "dbtexposures_tableau_workbooks", false, func(*emulator.Fixture) map[string]tftypes.Value { return nil })
}

// BenchmarkReadWorkbookColumns10000 is the same with include_columns: the
// 20 to 40 columns each workbook's sheet uses.
func BenchmarkReadWorkbookColumns10000(b *testing.B) {
	benchReadDataSource(b, "dbtexposures_tableau_workbooks", false, func(*emulator.Fixture) map[string]tftypes.Value {
		return map[string]tftypes.Value{"include_columns": tftypes.NewValue(tftypes.Bool, true)}
	})
}

// BenchmarkReadExposures10000 is dbtexposures_exposures over the same site and
// the jaffle-shop manifest, through the plugin protocol.
func BenchmarkReadExposures10000(b *testing.B) {
	manifest, err := filepath.Abs(filepath.Join("..", "..", "examples", "demo", "manifest.json"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(manifest); err != nil {
		b.Fatal(err)
	}
	benchReadDataSource(b, "dbtexposures_exposures", false, func(*emulator.Fixture) map[string]tftypes.Value {
		return map[string]tftypes.Value{"manifest_path": tftypes.NewValue(tftypes.String, manifest)}
	})
}

// BenchmarkReadImpact5000Models10000Workbooks is dbtexposures_impact through
// the plugin protocol: a 5,000-model project's two manifests (about 50 MB
// each) and catalogs, over the same site's 10,000 workbooks with their
// columns, served from another process. ms-after-last-answer is the
// provider's share beyond reading the files and Tableau: matching, the
// analysis, the comment and the encoding.
func BenchmarkReadImpact5000Models10000Workbooks(b *testing.B) {
	project := benchproject.Project{Models: 5000, Bytes: 50 << 20}
	dir := b.TempDir()
	files := map[string][]byte{"base_manifest_path": project.Manifest(false), "manifest_path": project.Manifest(true),
		"base_catalog_path": project.Catalog(false), "catalog_path": project.Catalog(true)}
	set := map[string]tftypes.Value{}
	for arg, doc := range files {
		path := filepath.Join(dir, arg+".json")
		if err := os.WriteFile(path, doc, 0o600); err != nil {
			b.Fatal(err)
		}
		set[arg] = tftypes.NewValue(tftypes.String, path)
	}
	files = nil
	benchReadDataSource(b, "dbtexposures_impact", true, func(*emulator.Fixture) map[string]tftypes.Value { return set })
}
