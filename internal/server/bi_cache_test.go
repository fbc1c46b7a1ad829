package server

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
)

// cacheRig is a server over a real store with one Tableau integration that
// reaches the emulator.
func cacheRig(t *testing.T, opts ...Option) (*Server, *emulator.Emulator, *store.Integration) {
	t.Helper()
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 3, TablesPerWorkbook: 1})
	emu, err := emulator.New(f)
	if err != nil {
		t.Fatal(err)
	}
	tab := httptest.NewServer(emu)
	t.Cleanup(tab.Close)
	db, err := store.Open(filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if _, err := db.Bootstrap(ctx, "tok"); err != nil {
		t.Fatal(err)
	}
	in, err := db.CreateIntegration(ctx, store.Integration{AccountID: 1, ProjectID: 1, Name: "tableau", Config: map[string]string{
		"host": tab.URL, "site_id": f.Site.ContentURL, "token_name": f.PersonalAccessToken.Name, "token": f.PersonalAccessToken.Secret}})
	if err != nil {
		t.Fatal(err)
	}
	return New(db, nil, opts...), emu, in
}

// Close waits for the sign-outs of the clients it ends.
func TestCloseWaitsForSignOuts(t *testing.T) {
	s, emu, in := cacheRig(t)
	if _, err := s.bi.tree(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	emu.Inject(emulator.Fault{PathContains: "/auth/signout", Times: 1, Delay: 300 * time.Millisecond})
	s.Close()
	if st := emu.Stats(); st.SignOuts != 1 {
		t.Fatalf("Close returned before the sign-out: %+v", st)
	}
}

// A sign-out that hangs holds Close up for the close timeout, no longer.
func TestCloseBoundsASignOutThatHangs(t *testing.T) {
	s, emu, in := cacheRig(t)
	s.bi.closeTimeout = 200 * time.Millisecond
	if _, err := s.bi.tree(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	emu.Inject(emulator.Fault{PathContains: "/auth/signout", Times: 1, Delay: 3 * time.Second})
	start := time.Now()
	s.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
}

// A tree expires after the TTL and is read again; an integration unused for
// the idle time is evicted and its session ended.
func TestCacheExpiresAndEvicts(t *testing.T) {
	s, emu, in := cacheRig(t, WithBICacheTTL(50*time.Millisecond))
	s.bi.idle = 100 * time.Millisecond
	ctx := context.Background()
	for range 3 {
		if _, err := s.bi.tree(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if st := emu.Stats(); st.REST != 4 { // probe, sign-in, projects, workbooks: read once
		t.Fatalf("a fresh tree was read again: %+v", st)
	}
	time.Sleep(60 * time.Millisecond)
	if _, err := s.bi.tree(ctx, in); err != nil {
		t.Fatal(err)
	}
	if st := emu.Stats(); st.REST != 6 {
		t.Fatalf("an expired tree was not read again: %+v", st)
	}
	time.Sleep(200 * time.Millisecond)
	other := *in
	other.ID = in.ID + 1000 // another integration's use runs the eviction
	other.Config = map[string]string{"host": "tableau.invalid", "token_name": "n", "token": "t"}
	if _, err := s.bi.entry(&other); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if n, st := s.bi.size(), emu.Stats(); n != 0 || st.SignOuts != 1 {
		t.Fatalf("after eviction and Close: %d entries, %+v", n, st)
	}
}

// The project's sync bookkeeping is gone once its syncs are done.
func TestSyncerForgetsFinishedProjects(t *testing.T) {
	s, _, _ := cacheRig(t)
	for range 3 {
		s.triggerSync(1, 1) // no manifest: each sync fails fast, and one may run again
	}
	s.Close()
	s.sync.mu.Lock()
	defer s.sync.mu.Unlock()
	if len(s.sync.running)+len(s.sync.again) != 0 || s.store.LocalLocks() != 0 {
		t.Fatalf("left behind: running %v, again %v, %d locks", s.sync.running, s.sync.again, s.store.LocalLocks())
	}
}
