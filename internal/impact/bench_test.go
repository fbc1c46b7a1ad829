package impact_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/exposures"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/heaptest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/impact"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/impact/benchproject"
)

// benchProject is 5,000 models (about 20,000 edges) in manifests of about 50 MB.
var benchProject = benchproject.Project{Models: 5000, Bytes: 50 << 20}

// parsed are both manifests and catalogs of benchProject, read.
type parsed struct {
	base, head       *impact.Manifest
	baseCat, headCat *exposures.Catalog
}

// parseAll reads the four documents at once, as the data source does.
func parseAll(b *testing.B, docs [4][]byte) parsed {
	var p parsed
	var group errgroup.Group
	group.Go(func() (err error) { p.base, err = impact.Load(bytes.NewReader(docs[0])); return err })
	group.Go(func() (err error) { p.head, err = impact.Load(bytes.NewReader(docs[1])); return err })
	group.Go(func() (err error) { p.baseCat, err = exposures.LoadCatalog(bytes.NewReader(docs[2])); return err })
	group.Go(func() (err error) { p.headCat, err = exposures.LoadCatalog(bytes.NewReader(docs[3])); return err })
	if err := group.Wait(); err != nil {
		b.Fatal(err)
	}
	return p
}

func benchDocs() [4][]byte {
	return [4][]byte{benchProject.Manifest(false), benchProject.Manifest(true), benchProject.Catalog(false), benchProject.Catalog(true)}
}

// BenchmarkParseManifestPairAndCatalogs reads both manifests (about 50 MB
// each) and both catalogs of a 5,000-model project.
func BenchmarkParseManifestPairAndCatalogs(b *testing.B) {
	docs := benchDocs()
	b.SetBytes(int64(len(docs[0]) + len(docs[1]) + len(docs[2]) + len(docs[3])))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		parseAll(b, docs)
	}
}

// benchDashboards are 10,000 dashboards reading one to four marts each and
// using 20 to 40 of their columns, as the generated Tableau site's do.
func benchDashboards() []impact.Dashboard {
	cols := benchproject.MartColumns()
	out := make([]impact.Dashboard, 10000)
	for i := range out {
		d := impact.Dashboard{Tool: "tableau", ToolLabel: "Tableau", ID: fmt.Sprintf("w%05d", i), Name: fmt.Sprintf("Workbook %05d", i),
			URL: fmt.Sprintf("https://tableau.example.com/#/workbooks/%d", i), OwnerName: "Ada", Columns: map[string][]string{}}
		for t := 0; t <= i%4; t++ {
			node := benchproject.Mart((i + t*13) % benchproject.Marts)
			d.Nodes = append(d.Nodes, node)
			d.Columns[node] = cols[:21+(i+t)%20]
		}
		out[i] = d
	}
	return out
}

// BenchmarkAnalyze5000Models10000Dashboards is the engine alone, from parsed
// inputs: the comparison, the graph and 10,000 dashboards, and the comment.
func BenchmarkAnalyze5000Models10000Dashboards(b *testing.B) {
	p := parseAll(b, benchDocs())
	dashboards := benchDashboards()
	watch := heaptest.Start()
	var res *impact.Result
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		var err error
		res, err = impact.Analyze(impact.Input{Base: p.base.State, Head: p.head.State, BaseCatalog: p.baseCat, HeadCatalog: p.headCat, Dashboards: dashboards})
		if err != nil {
			b.Fatal(err)
		}
		_ = impact.Markdown(res, impact.MarkdownOptions{})
	}
	b.StopTimer()
	peak, _ := watch.Stop()
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms-per-analysis")
	b.ReportMetric(heaptest.MB(peak), "peak-heap-MB")
	b.ReportMetric(float64(len(res.Changed)), "changed-nodes")
	b.ReportMetric(float64(res.Summary.Breaking), "breaking")
	b.ReportMetric(float64(res.Summary.Affected), "affected")
}
