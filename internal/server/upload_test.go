package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/heaptest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
)

// zeros is an endless body that is generated, not held.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
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
		watch := heaptest.Start()
		func() {
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
		}()
		peak, after := watch.Stop()
		if code != http.StatusRequestEntityTooLarge || !strings.Contains(answer, "larger than 256 MiB") {
			t.Fatalf("declared=%v: %d %s", declared, code, answer)
		}
		t.Logf("declared length %v: heap peak +%d KiB, after +%d KiB", declared, peak>>10, after>>10)
		if peak > 16<<20 || after > 4<<20 {
			t.Fatalf("declared=%v: refusing the upload raised the heap by %d MiB at peak and %d MiB after", declared, peak>>20, after>>20)
		}
	}
}
