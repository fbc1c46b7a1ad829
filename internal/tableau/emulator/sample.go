package emulator

import "github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"

// Sample is an emulator of a small generated site whose first workbooks have
// extracts to refresh: a published data source and their own embedded ones.
func Sample() *Emulator {
	f := Generate(GenerateOptions{Workbooks: 12, TablesPerWorkbook: 2})
	f.Datasources = []FixtureDatasource{{ID: luid(8, 1), Name: "Orders (extract)", ProjectID: f.Projects[0].ID, HasExtracts: true}}
	for i := range f.Workbooks[:6] {
		f.Workbooks[i].UpstreamDatasources = []string{f.Datasources[0].ID}
		f.Workbooks[i].EmbeddedExtracts = i%2 == 0
	}
	e, err := New(f)
	if err != nil {
		panic("the sample site is invalid: " + err.Error()) // a programming error: the fixture is built above
	}
	return e
}

var _ bi.Emulator = (*Emulator)(nil)

// Config is a Tableau integration's config that reaches the emulator at base.
func (e *Emulator) Config(base string) bi.Config {
	f := e.Fixture()
	return bi.Config{"host": base, "site_id": f.Site.ContentURL, "token_name": f.PersonalAccessToken.Name, "token": f.PersonalAccessToken.Secret}
}

// Settings: Tableau's integrations say where Tableau is; the operator sets nothing.
func (e *Emulator) Settings(string) map[string]string { return nil }

// FailRefreshesOf makes every refresh of a data source or workbook fail.
func (e *Emulator) FailRefreshesOf(targetID string) {
	e.FailRefreshes(targetID, "The connection to the warehouse failed: the credentials expired.")
}
