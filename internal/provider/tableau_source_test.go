package provider

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/tableautest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// sourceFor configures a provider's Tableau source for an emulated site.
func sourceFor(url string, f *emulator.Fixture) (*tableauSource, diag.Diagnostics) {
	obj := types.ObjectValueMust(map[string]attr.Type{"host": types.StringType, "site_id": types.StringType, "token_name": types.StringType, "token": types.StringType},
		map[string]attr.Value{"host": types.StringValue(url), "site_id": types.StringValue(f.Site.ContentURL),
			"token_name": types.StringValue(f.PersonalAccessToken.Name), "token": types.StringValue(f.PersonalAccessToken.Secret)})
	var diags diag.Diagnostics
	return newTableauSource(context.Background(), obj, transport.DefaultRetryConfig(), "test", &diags), diags
}

// One provider process: one sign-in, one projects listing and one workbook walk,
// however many data sources read (concurrently, as Terraform does).
func TestTableauSourceSignsInOncePerProcess(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 1200, TablesPerWorkbook: 2})
	emu, srv := tableautest.NewServer(t, f)
	src, diags := sourceFor(srv.URL, f)
	if diags.HasError() || src.client == nil {
		t.Fatalf("%v %s", diags, src.err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if i%2 == 0 {
				_, _ = src.Projects(context.Background())
			} else if _, wbs, err := src.Workbooks(context.Background()); err != nil || len(wbs) != 1200 {
				t.Errorf("workbooks: %d %v", len(wbs), err)
			}
		}(i)
	}
	wg.Wait()
	st := emu.Stats()
	// probe + sign-in + ceil(7/1000) projects + 1 custom SQL page + ceil(1200/500) workbook pages
	if st.SignIns != 1 || st.REST != 3 || st.GraphQL != 4 {
		t.Fatalf("want 1 sign-in, 3 REST and 4 GraphQL requests; got %+v", st)
	}
}

func TestTableauSourceNamesMissingSettings(t *testing.T) {
	for _, v := range []string{EnvTableauHost, EnvTableauSiteID, EnvTableauTokenName, EnvTableauToken} {
		t.Setenv(v, "")
	}
	t.Setenv(EnvTableauHost, "tableau.example.com")
	var diags diag.Diagnostics
	newTableauSource(context.Background(), types.ObjectNull(nil), transport.DefaultRetryConfig(), "test", &diags)
	if !diags.HasError() {
		t.Fatal("a host without a token must be an error")
	}
	text := ""
	for _, d := range diags {
		text += d.Detail()
	}
	for _, want := range []string{EnvTableauTokenName, EnvTableauToken} {
		if !contains(text, want) {
			t.Errorf("diagnostics do not name %s: %s", want, text)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestShutdownSignsOutOfTableau(t *testing.T) {
	f := emulator.Generate(emulator.GenerateOptions{Workbooks: 3})
	emu, srv := tableautest.NewServer(t, f)
	src, _ := sourceFor(srv.URL, f)
	if _, err := src.Projects(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Clients of earlier tests point at stopped emulators; the deadline bounds them as main's does.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	Shutdown(ctx)
	if st := emu.Stats(); st.SignIns != 1 || st.SignOuts != 1 {
		t.Fatalf("want the session signed out: %+v", st)
	}
}
