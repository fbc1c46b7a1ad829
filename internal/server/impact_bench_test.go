package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/heaptest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/impact/benchproject"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
)

// BenchmarkImpactEndpoint5000Models answers POST …/impact/ with a
// 5,000-model project's pull request (its manifest, about 50 MB, and its
// catalog), against the stored manifest and catalog and a sync of the
// 10,000-workbook site: the time of the answer, parsing included.
func BenchmarkImpactEndpoint5000Models(b *testing.B) {
	project := benchproject.Project{Models: 5000, Bytes: 50 << 20}
	tab := emulatorProcess(b)
	f := emulator.Generate(benchSiteOptions)
	f.Workbooks, f.Fields = nil, nil // the site lives in the emulator's process
	srv := servertest.New(b)
	in := withTableau(b, srv, tab, f)
	base := fmt.Sprintf("%s/v3/accounts/1/projects/1/", srv.HostURL)
	for name, doc := range map[string][]byte{"manifest/": project.Manifest(false), "catalog/": project.Catalog(false)} {
		if code, body := rawCall(b, "PUT", base+name, srv.Token, doc); code != 200 {
			b.Fatalf("%s: %d %s", name, code, body)
		}
	}
	watchSite(b, srv, in.ID, f)
	if code, body := rawCall(b, "POST", base+"exposures/sync/", srv.Token, nil); code != 200 {
		b.Fatalf("sync: %d %s", code, body)
	}
	pr := append(append(append([]byte(`{"manifest": `), project.Manifest(true)...), `, "catalog": `...), project.Catalog(true)...)
	pr = append(pr, '}')
	var total time.Duration
	var peak uint64
	var res impactAnswer
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		watch := heaptest.Start()
		start := time.Now()
		code, body := rawCall(b, "POST", base+"impact/", srv.Token, pr)
		total += time.Since(start)
		p, _ := watch.Stop()
		peak = max(peak, p)
		if err := json.Unmarshal(body, &res); code != 200 || err != nil || res.Data.Summary.Breaking == 0 {
			b.Fatalf("impact: %d %v %.300s", code, err, body)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-per-answer")
	b.ReportMetric(heaptest.MB(peak), "peak-heap-MB")
	b.ReportMetric(float64(res.Data.Summary.Breaking), "breaking")
	b.ReportMetric(float64(res.Data.Summary.Affected), "affected")
}

// watchSite makes the integration watch every top-level project of the site.
func watchSite(b *testing.B, srv *servertest.Server, integration int64, f *emulator.Fixture) {
	b.Helper()
	var watch []dbtcloud.WatchSelectionItem
	for _, p := range f.Projects {
		if p.ParentID == "" {
			watch = append(watch, dbtcloud.WatchSelectionItem{Identifier: p.ID, Name: p.Name, Type: dbtcloud.ItemFolder})
		}
	}
	if _, err := srv.Client(b).UpdateSelections(context.Background(), 1, integration, dbtcloud.SelectionChange{ToAdd: watch}); err != nil {
		b.Fatal(err)
	}
	srv.API.Close() // let the background syncs end first
}
