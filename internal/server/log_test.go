package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/dbtcloud"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/logtest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// The server's log gets what the Tableau client reports: Tableau's warnings,
// retried requests and, at trace level, request traces with secrets redacted.
func TestServerLogShowsTableauWarningsAndRetries(t *testing.T) {
	f, err := emulator.LoadFixture(filepath.Join("..", "..", "examples", "demo", "tableau-site.json"))
	if err != nil {
		t.Fatal(err)
	}
	emu, tab := tableautest.NewServer(t, f)
	emu.MaxPageSize = 100 // below the client's page size: Tableau warns and clamps
	emu.Inject(emulator.Fault{PathContains: "/api/metadata/graphql", Times: 1, Status: 503})

	var logs logtest.Buffer
	srv := servertest.NewLogged(t, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: transport.LevelTrace})))
	in := withTableau(t, srv, tab, f)
	base := fmt.Sprintf("%s/v3/accounts/1/projects/1/", srv.HostURL)
	manifest, err := os.ReadFile(filepath.Join("..", "..", "examples", "demo", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if code, b := rawCall(t, "PUT", base+"manifest/", srv.Token, manifest); code != 200 {
		t.Fatalf("manifest: %d %s", code, b)
	}
	const finance = "00000003-0000-4000-8000-000000000002"
	if _, err := srv.Client(t).UpdateSelections(context.Background(), 1, in.ID, dbtcloud.SelectionChange{
		ToAdd: []dbtcloud.WatchSelectionItem{{Identifier: finance, Name: "Finance", Type: dbtcloud.ItemFolder}}}); err != nil {
		t.Fatal(err)
	}
	if code, b := rawCall(t, "POST", base+"exposures/sync/", srv.Token, nil); code != 200 || decodeSync(t, b).Data.SyncError != nil {
		t.Fatalf("sync: %d %s", code, b)
	}

	out := logs.String()
	for _, want := range []string{
		`msg="Tableau Metadata API warning"`, "MAX_PAGE_SIZE_EXCEEDED",
		`msg="Tableau API request retried"`, "/api/metadata/graphql",
		`msg="Tableau API request"`, "X-Tableau-Auth:" + transport.Redacted, "personalAccessTokenSecret", transport.Redacted,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the server log lacks %q", want)
		}
	}
	for _, secret := range []string{f.PersonalAccessToken.Secret, srv.Token} {
		if strings.Contains(out, secret) {
			t.Errorf("the server log shows a secret (%q)", secret)
		}
	}
	if t.Failed() {
		t.Logf("server log:\n%s", out)
	}
}
