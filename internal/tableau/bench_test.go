package tableau_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
)

// BenchmarkDiscover10000Workbooks discovers a site of 10,000 workbooks with 5
// tables each from the emulator (in this process, so memory includes its side)
// and reports requests and peak heap per discovery.
func BenchmarkDiscover10000Workbooks(b *testing.B) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 10000, TablesPerWorkbook: 5})
	emu, srv := tableautest.NewServer(b, f)
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() { // sample the heap; ReadMemStats is too slow to call per allocation
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > peak.Load() {
					peak.Store(ms.HeapAlloc)
				}
			}
		}
	}()
	defer close(stop)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
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
	b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapAlloc))/(1<<20), "peak-heap-MB")
}
