package tableau_test

import (
	"context"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/heaptest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// BenchmarkDiscover10000Workbooks discovers a site of 10,000 workbooks with 5
// tables each from the emulator (in this process, so memory includes its side)
// and reports requests and peak heap per discovery.
func BenchmarkDiscover10000Workbooks(b *testing.B) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 10000, TablesPerWorkbook: 5})
	emu, srv := tableautest.NewServer(b, f)
	watch := heaptest.Start()
	emu.ResetStats()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := client(b, srv, f)
		site, err := c.Discover(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if len(site.Workbooks) != 10000 {
			b.Fatalf("got %d workbooks", len(site.Workbooks))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(emu.Stats().Requests)/float64(b.N), "requests/op")
	peak, _ := watch.Stop()
	b.ReportMetric(heaptest.MB(peak), "peak-heap-MB")
}

// BenchmarkListColumns10000Workbooks reads the columns of a site of 10,000
// workbooks that use 20 to 40 columns each (about 400,000 fields), and
// reports the requests and the heap the result holds.
func BenchmarkListColumns10000Workbooks(b *testing.B) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 10000, TablesPerWorkbook: 4, VaryTables: true, Columns: true})
	emu, srv := tableautest.NewServer(b, f)
	emu.ResetStats()
	var held uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		watch := heaptest.Start()
		cols, err := client(b, srv, f).ListColumns(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		_, held = watch.Stop()
		if len(cols) != 9998 { // two workbooks have no visible table
			b.Fatalf("columns of %d workbooks", len(cols))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(emu.Stats().GraphQL)/float64(b.N), "graphql-requests/op")
	b.ReportMetric(heaptest.MB(held), "held-heap-MB")
}
