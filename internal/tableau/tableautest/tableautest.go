// Package tableautest starts the Tableau emulator for tests. It only holds test
// helpers; the emulator itself is the product package internal/tableau/emulator.
package tableautest

import (
	"net/http/httptest"
	"testing"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
)

// NewServer starts an emulator of f's site on loopback; it stops when the test ends.
func NewServer(t testing.TB, f *emulator.Fixture) (*emulator.Emulator, *httptest.Server) {
	t.Helper()
	e, err := emulator.New(f)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return e, srv
}
