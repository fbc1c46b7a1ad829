// Package heaptest measures how much heap a piece of work adds at its peak,
// for tests and benchmarks. It only holds test helpers.
package heaptest

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Watch samples the live heap (every few milliseconds: ReadMemStats is too
// slow to call per allocation) from now until Stop.
type Watch struct {
	base uint64
	peak atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

// Start collects garbage, notes the heap, and starts sampling.
func Start() *Watch {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	w := &Watch{base: ms.HeapAlloc, stop: make(chan struct{})}
	w.peak.Store(ms.HeapAlloc)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		var s runtime.MemStats
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(5 * time.Millisecond):
				runtime.ReadMemStats(&s)
				if s.HeapAlloc > w.peak.Load() {
					w.peak.Store(s.HeapAlloc)
				}
			}
		}
	}()
	return w
}

// Stop ends sampling and returns the peak and, after a collection, the heap
// that stays, both above the heap at Start.
func (w *Watch) Stop() (peak, after uint64) {
	close(w.stop)
	w.wg.Wait()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return above(w.peak.Load(), w.base), above(ms.HeapAlloc, w.base)
}

// MB is n bytes in MiB, for reports.
func MB(n uint64) float64 { return float64(n) / (1 << 20) }

func above(v, base uint64) uint64 {
	if v < base {
		return 0
	}
	return v - base
}
