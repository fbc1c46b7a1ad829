package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/heaptest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi/emulator"
)

// benchTenant is a Power BI tenant of workspaces × reports, each report with
// its own dataset of three tables (navigation, native SQL, a shared parameter);
// one of them is the jaffle-shop manifest's customers model.
func benchTenant(b *testing.B, workspaces, reports int) *httptest.Server {
	b.Helper()
	var ws []map[string]any
	for w := 0; w < workspaces; w++ {
		var reps, sets []map[string]any
		for r := 0; r < reports; r++ {
			ds := fmt.Sprintf("ds-%d-%d", w, r)
			reps = append(reps, map[string]any{"id": fmt.Sprintf("rep-%d-%d", w, r), "name": fmt.Sprintf("Report %d", r), "datasetId": ds})
			sets = append(sets, map[string]any{"id": ds, "name": "Model " + ds,
				"expressions": []map[string]string{{"name": "Schema", "expression": `"mart" meta [IsParameterQuery=true]`}},
				"tables": []map[string]any{
					{"name": "orders", "source": []map[string]string{{"expression": fmt.Sprintf(`let S = Snowflake.Databases("acme.snowflakecomputing.com", "WH"), D = S{[Name="ANALYTICS",Kind="Database"]}[Data], Sc = D{[Name=Schema,Kind="Schema"]}[Data], T = Sc{[Name="ORDERS_%d",Kind="Table"]}[Data] in T`, r%50)}}},
					{"name": "customers", "source": []map[string]string{{"expression": `let S = PostgreSQL.Database("warehouse.jaffle.example", "jaffle_shop"), T = S{[Schema="main",Item="customers"]}[Data] in T`}}},
					{"name": "revenue", "source": []map[string]string{{"expression": `Value.NativeQuery(Snowflake.Databases("acme.snowflakecomputing.com", "WH"){[Name="ANALYTICS"]}[Data], "select * from mart.revenue r join mart.stores s on s.id = r.store_id#(lf)where r.day > current_date - 30")`}}},
				}})
		}
		ws = append(ws, map[string]any{"id": fmt.Sprintf("ws-%04d", w), "name": fmt.Sprintf("Workspace %04d", w), "type": "Workspace", "state": "Active",
			"reports": reps, "datasets": sets})
	}
	scan, _ := json.Marshal(map[string]any{"workspaces": ws})
	e, err := emulator.New(&emulator.Fixture{TenantID: "bench", ClientID: "app", ClientSecret: "secret", ScanResult: scan})
	if err != nil {
		b.Fatal(err)
	}
	e.ScanPolls = 1
	srv := httptest.NewServer(e)
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkReadPowerBIReports2000 is dbtexposures_powerbi_reports over 200
// workspaces of 10 reports, through the plugin protocol from a fresh provider:
// the whole wait of a plan's read, the scan's first poll (1 s) included.
func BenchmarkReadPowerBIReports2000(b *testing.B) {
	benchPowerBIRead(b, "dbtexposures_powerbi_reports", nil, "reports")
}

// BenchmarkReadPowerBIExposures2000 is dbtexposures_exposures over the same
// tenant and the jaffle-shop manifest: 2,000 exposures, each report matched,
// named uniquely and rendered as YAML.
func BenchmarkReadPowerBIExposures2000(b *testing.B) {
	manifest, err := filepath.Abs(filepath.Join("..", "..", "examples", "demo", "manifest.json"))
	if err != nil {
		b.Fatal(err)
	}
	benchPowerBIRead(b, "dbtexposures_exposures", map[string]tftypes.Value{"manifest_path": tftypes.NewValue(tftypes.String, manifest)}, "exposures")
}

// benchPowerBIRead reads a data source from a fresh provider configured for
// the bench tenant, through the plugin protocol, and reports the peak heap.
// The list attribute result must hold one element per report.
func benchPowerBIRead(b *testing.B, typeName string, config map[string]tftypes.Value, result string) {
	srv := benchTenant(b, 200, 10)
	ctx := context.Background()
	watch := heaptest.Start()
	var last *tfprotov6.ReadDataSourceResponse
	var dtype tftypes.Object
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p, err := NewProtocol6("bench")()
		if err != nil {
			b.Fatal(err)
		}
		schemas, _ := p.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
		ptype := schemas.Provider.ValueType().(tftypes.Object)
		cfg := nullObject(ptype, map[string]tftypes.Value{"powerbi": nullObject(ptype.AttributeTypes["powerbi"].(tftypes.Object), map[string]tftypes.Value{
			"tenant_id": tftypes.NewValue(tftypes.String, "bench"), "client_id": tftypes.NewValue(tftypes.String, "app"),
			"client_secret": tftypes.NewValue(tftypes.String, "secret"), "api_url": tftypes.NewValue(tftypes.String, srv.URL),
			"login_url": tftypes.NewValue(tftypes.String, srv.URL),
		})})
		if resp, err := p.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: protocolValue(b, ptype, cfg)}); err != nil || len(resp.Diagnostics) > 0 {
			b.Fatalf("configure: %v %v", err, resp.Diagnostics)
		}
		dtype = schemas.DataSourceSchemas[typeName].ValueType().(tftypes.Object)
		req := &tfprotov6.ReadDataSourceRequest{TypeName: typeName, Config: protocolValue(b, dtype, nullObject(dtype, config))}
		b.StartTimer()
		resp, err := p.ReadDataSource(ctx, req)
		if err != nil || len(resp.Diagnostics) > 0 {
			b.Fatalf("read: %v %v", err, resp.Diagnostics)
		}
		last = resp
	}
	b.StopTimer()
	peak, _ := watch.Stop()
	b.ReportMetric(heaptest.MB(peak), "peak-heap-MB")
	if n := listLength(b, last.State, dtype, result); n != 2000 {
		b.Fatalf("%s has %d elements, want one per report (2000)", result, n)
	}
}

// listLength is the length of a list attribute of a protocol state.
func listLength(b *testing.B, state *tfprotov6.DynamicValue, t tftypes.Object, attr string) int {
	v, err := state.Unmarshal(t)
	if err != nil {
		b.Fatal(err)
	}
	var attrs map[string]tftypes.Value
	var list []tftypes.Value
	if err := v.As(&attrs); err != nil {
		b.Fatal(err)
	}
	if err := attrs[attr].As(&list); err != nil {
		b.Fatal(err)
	}
	return len(list)
}
