package server_test

import (
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
)

// zeros is an endless body that is generated, not held.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// heapWatch samples the live heap while f runs and returns the peak and the
// heap after f, both above the heap before it (after a collection each time).
func heapWatch(f func()) (peak, after uint64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var maxSeen atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var s runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
				runtime.ReadMemStats(&s)
				if s.HeapAlloc > maxSeen.Load() {
					maxSeen.Store(s.HeapAlloc)
				}
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	sub := func(v uint64) uint64 {
		if v < base {
			return 0
		}
		return v - base
	}
	return sub(maxSeen.Load()), sub(ms.HeapAlloc)
}

// A 266 MiB manifest is refused with 413, whether its length is declared or it
// arrives chunked, and the server's heap stays where it was meanwhile.
func TestOversizedManifestCostsNoMemory(t *testing.T) {
	srv := servertest.New(t)
	url := srv.HostURL + "/v3/accounts/1/projects/1/manifest/"
	const size = 266 << 20
	for _, declared := range []bool{true, false} {
		var code int
		var answer string
		peak, after := heapWatch(func() {
			req, _ := http.NewRequest(http.MethodPut, url, io.LimitReader(zeros{}, size))
			req.Header.Set("Authorization", "Token "+srv.Token)
			if declared {
				req.ContentLength = size
			} // else: chunked, the length unknown until the end
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("declared=%v: %v", declared, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			code, answer = resp.StatusCode, string(b)
		})
		if code != http.StatusRequestEntityTooLarge || !strings.Contains(answer, "larger than 256 MiB") {
			t.Fatalf("declared=%v: %d %s", declared, code, answer)
		}
		t.Logf("declared length %v: heap peak +%d KiB, after +%d KiB", declared, peak>>10, after>>10)
		if peak > 16<<20 || after > 4<<20 {
			t.Fatalf("declared=%v: refusing the upload raised the heap by %d MiB at peak and %d MiB after", declared, peak>>20, after>>20)
		}
	}
}
