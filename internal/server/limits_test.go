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
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store/pgtest"
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
	for deadline := time.Now().Add(10 * time.Second); api.heavy.held(1) < heavyPerAccount; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the two uploads hold %d slots", api.heavy.held(1))
		}
	}
	code, answer := call(http.MethodPost, "exposures/sync/", nil)
	if code != http.StatusTooManyRequests || !strings.HasPrefix(answer, "5 ") || !strings.Contains(answer, "already runs 2 manifest uploads or exposure syncs") {
		t.Fatalf("a third heavy request: %d %s", code, answer)
	}
}

// The per-account and per-project maps hold only what is at work: after many
// accounts' uploads and many projects' syncs and runs, they are empty again.
func TestPerAccountAndProjectMapsArePruned(t *testing.T) {
	api := New(nil, nil)
	var wg sync.WaitGroup
	for id := int64(1); id <= 200; id++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if release, ok := api.heavy.tryAcquire(id); ok {
				release()
			}
			release, err := api.heavy.acquire(context.Background(), id)
			if err != nil {
				t.Error(err)
				return
			}
			release()
			api.runLocks.lock(id)()
		}()
	}
	wg.Wait()
	if a, r := api.heavy.accounts(), api.runLocks.size(); a+r != 0 {
		t.Fatalf("left behind: %d accounts' slots, %d run locks", a, r)
	}
	// A cancelled wait leaves nothing behind either.
	hold1, _ := api.heavy.tryAcquire(7)
	hold2, _ := api.heavy.tryAcquire(7)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := api.heavy.acquire(ctx, 7); err == nil {
		t.Fatal("a third slot was handed out")
	}
	hold1()
	hold2()
	if api.heavy.accounts() != 0 {
		t.Fatal("a cancelled wait kept its account's entry")
	}
}

// The bound on heavy work holds per account across replicas: with the
// account's two slots taken on one, another refuses a third.
func TestHeavyWorkBoundAcrossReplicas(t *testing.T) {
	dsn := pgtest.DSN(t)
	var servers []*Server
	for range 2 {
		db, err := store.Open(dsn)
		if err != nil {
			t.Fatal(err)
		}
		api := New(db, nil)
		t.Cleanup(func() { api.Close(); db.Close() })
		servers = append(servers, api)
	}
	ctx := context.Background()
	first, ok1 := servers[0].tryHeavy(ctx, 1)
	second, ok2 := servers[0].tryHeavy(ctx, 1)
	if !ok1 || !ok2 {
		t.Fatal("one replica could not take the account's two slots")
	}
	if _, ok := servers[1].tryHeavy(ctx, 1); ok {
		t.Fatal("another replica took a third slot of the account")
	}
	if release, ok := servers[1].tryHeavy(ctx, 2); !ok {
		t.Fatal("another account's slot was refused")
	} else {
		release()
	}
	first()
	third, ok := servers[1].tryHeavy(ctx, 1)
	if !ok {
		t.Fatal("a freed slot was not taken")
	}
	third()
	second()
}
