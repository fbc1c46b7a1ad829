package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
)

// An account runs at most two uploads or syncs at once; a third is answered
// 429 with Retry-After rather than queued.
func TestHeavyWorkIsBoundedPerAccount(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Bootstrap(context.Background(), "tok"); err != nil {
		t.Fatal(err)
	}
	api := New(db, nil)
	hs := httptest.NewServer(api)
	t.Cleanup(func() { hs.Close(); api.Close(); db.Close() })
	call := func(method, path string, body io.Reader) (int, string) {
		req, _ := http.NewRequest(method, hs.URL+"/api/v3/accounts/1/projects/1/"+path, body)
		req.Header.Set("Authorization", "Token tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Retry-After") + " " + string(b)
	}
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)       // runs after the pipes below are closed: cleanups run last first
	for i := 0; i < 2; i++ { // two uploads that stay under way
		pr, pw := io.Pipe()
		t.Cleanup(func() { pw.CloseWithError(io.ErrUnexpectedEOF) })
		wg.Add(1)
		go func() { defer wg.Done(); call(http.MethodPut, "manifest/", pr) }()
		go func() { _, _ = pw.Write(append([]byte("{"), bytes.Repeat([]byte(" "), 64<<10)...)) }()
	}
	slots := api.heavy.slots(1)
	for deadline := time.Now().Add(10 * time.Second); len(slots) < heavyPerAccount; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the two uploads hold %d slots", len(slots))
		}
	}
	code, answer := call(http.MethodPost, "exposures/sync/", nil)
	if code != http.StatusTooManyRequests || !strings.HasPrefix(answer, "5 ") || !strings.Contains(answer, "already runs 2 manifest uploads or exposure syncs") {
		t.Fatalf("a third heavy request: %d %s", code, answer)
	}
}
