package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/heaptest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store/pgtest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// warehouseManifest is a manifest of about size bytes whose first models are
// the tables the generated Tableau site reads, padded with the bulky fields
// real manifests carry.
func warehouseManifest(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": {`)
	filler := bytes.Repeat([]byte("select a, b, c from somewhere where x = 1 "), 40)
	// The models the site reads document the 40 columns its sheets use.
	documented := []string{`"id": {"name": "id", "description": "the id"}`}
	for c := 0; c < 40; c++ {
		documented = append(documented, fmt.Sprintf(`"col_%02d": {"name": "COL_%02d", "description": "a column"}`, c, c))
	}
	columns := strings.Join(documented, ", ")
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		alias := fmt.Sprintf("PAD_%d", i)
		if i < 50 {
			alias = fmt.Sprintf("FCT_ORDERS_%d", i)
		} else if i < 100 {
			alias = fmt.Sprintf("DIM_CUSTOMERS_%d", i-50)
		}
		cols := `"id": {"name": "id", "description": "the id"}`
		if i < 100 {
			cols = columns
		}
		fmt.Fprintf(&b, `"model.shop.m%d": {"resource_type": "model", "package_name": "shop", "name": "m%d", "database": "WAREHOUSE",
			"schema": "ANALYTICS", "alias": %q, "config": {"materialized": "table"}, "raw_code": %q, "compiled_code": %q,
			"columns": {%s}, "description": "A model."}`, i, i, alias, filler, filler, cols)
	}
	b.WriteString(`}, "sources": {}, "macros": {}}`)
	return b.Bytes()
}

// benchSiteOptions is the site the sync benchmark watches.
var benchSiteOptions = emulator.GenerateOptions{Workbooks: 10000, TablesPerWorkbook: 4, VaryTables: true, Columns: true}

func TestMain(m *testing.M) {
	if tableautest.ServeChild() {
		return
	}
	os.Exit(pgtest.Main(m))
}

// emulatorProcess serves the benchmark's site from another process, so that
// its fixture and answers do not share the server's heap.
func emulatorProcess(b *testing.B) *httptest.Server {
	b.Helper()
	url, _ := tableautest.Child(b, benchSiteOptions, 0)
	return &httptest.Server{URL: url}
}

// BenchmarkSync10000Workbooks50MBManifest syncs the exposures of a watched
// 10,000-workbook site, whose sheets use 20 to 40 columns each, against a
// 50 MB manifest, while another client keeps calling the API, and reports the
// sync's time, the heap it adds at its peak, and the slowest API answer
// during it. The sync reads the columns too.
func BenchmarkSync10000Workbooks50MBManifest(b *testing.B) {
	site := benchSiteOptions
	tab := emulatorProcess(b)
	f := emulator.Generate(site)
	f.Workbooks, f.Fields = nil, nil // the site lives in the emulator's process: the heap measured is the server's
	runtime.GC()
	srv := servertest.New(b)
	in := withTableau(b, srv, tab, f)
	base := fmt.Sprintf("%s/v3/accounts/1/projects/1/", srv.HostURL)
	if code, body := rawCall(b, "PUT", base+"manifest/", srv.Token, warehouseManifest(50<<20)); code != 200 {
		b.Fatalf("manifest: %d %s", code, body)
	}
	watchSite(b, srv, in.ID, f)
	var syncTime, slowest time.Duration
	var peak uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		watch := heaptest.Start()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); slowest = max(slowest, pollAPI(b, srv, stop)) }()
		start := time.Now()
		code, body := rawCall(b, "POST", base+"exposures/sync/", srv.Token, nil)
		syncTime += time.Since(start)
		close(stop)
		wg.Wait()
		p, _ := watch.Stop() // before the benchmark decodes the answer: its maps are not the server's
		peak = max(peak, p)
		if a := decodeSync(b, body); code != 200 || a.Data.SyncError != nil || len(a.Data.Exposures) < 9000 {
			b.Fatalf("sync: %d, error %v, %d exposures", code, a.Data.SyncError, len(a.Data.Exposures))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(syncTime.Milliseconds())/float64(b.N), "ms-per-sync")
	b.ReportMetric(heaptest.MB(peak), "peak-heap-MB")
	b.ReportMetric(float64(slowest.Milliseconds()), "slowest-api-ms")
}

// pollAPI calls the API until stop, failing on any error, and returns the
// slowest answer.
func pollAPI(b *testing.B, srv *servertest.Server, stop <-chan struct{}) time.Duration {
	var slowest time.Duration
	for {
		select {
		case <-stop:
			return slowest
		case <-time.After(20 * time.Millisecond):
		}
		start := time.Now()
		req, _ := http.NewRequest(http.MethodGet, srv.HostURL+"/v3/accounts/1/projects/", nil)
		req.Header.Set("Authorization", "Token "+srv.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Errorf("the API did not answer during a sync: %v", err)
			return slowest
		}
		resp.Body.Close()
		slowest = max(slowest, time.Since(start))
	}
}
