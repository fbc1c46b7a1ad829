package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/servertest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store/pgtest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// /healthz and /readyz need no token and say nothing but their word;
// /readyz fails while PostgreSQL is down and recovers when it is back.
func TestHealthAndReadiness(t *testing.T) {
	pg := pgtest.NewCluster(t)
	srv := servertest.NewOn(t, pg.DSN(t), nil)
	for path, want := range map[string]string{"/healthz": "ok\n", "/readyz": "ready\n"} {
		if code, body := get(t, srv.URL+path); code != 200 || body != want {
			t.Fatalf("%s: %d %q", path, code, body)
		}
	}
	pg.Stop(t)
	if code, body := get(t, srv.URL+"/readyz"); code != http.StatusServiceUnavailable || body != "not ready\n" {
		t.Fatalf("/readyz with the database down: %d %q", code, body)
	}
	if code, _ := get(t, srv.URL+"/healthz"); code != 200 {
		t.Fatalf("/healthz with the database down: %d; the process is alive", code)
	}
	pg.Start(t)
	if code, body := get(t, srv.URL+"/readyz"); code != 200 || !strings.HasPrefix(body, "ready") {
		t.Fatalf("/readyz after the database came back: %d %q", code, body)
	}
}
