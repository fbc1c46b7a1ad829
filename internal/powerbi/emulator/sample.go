package emulator

import (
	_ "embed"
	"encoding/json"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
)

// sampleTenant is the demo's tenant: two workspaces, a report whose dataset
// lives in the other one, Power Query M with navigation and native SQL.
//
//go:embed sample-tenant.json
var sampleTenant []byte

// Sample is an emulator of a small tenant, answering at once (one poll per scan).
func Sample() *Emulator {
	var f Fixture
	if err := json.Unmarshal(sampleTenant, &f); err != nil {
		panic("the sample tenant is invalid: " + err.Error()) // a programming error: the file is embedded
	}
	e, err := New(&f)
	if err != nil {
		panic("the sample tenant is invalid: " + err.Error())
	}
	e.ScanPolls = 1
	return e
}

var _ bi.Emulator = (*Emulator)(nil)

// Config is a Power BI integration's config that this tenant accepts.
func (e *Emulator) Config(string) bi.Config {
	return bi.Config{"tenant_id": e.fixture.TenantID, "client_id": e.fixture.ClientID, "client_secret": e.fixture.ClientSecret}
}

// Settings point the API and Entra ID at the emulator.
func (e *Emulator) Settings(base string) map[string]string {
	return map[string]string{powerbi.SettingAPIURL: base, powerbi.SettingLoginURL: base, powerbi.SettingPollInterval: "5ms"}
}

// FailRefreshesOf makes every refresh of a dataset fail as one whose data
// source credentials are missing does.
func (e *Emulator) FailRefreshesOf(datasetID string) {
	e.FailRefreshes(datasetID, "ModelRefreshFailed_CredentialsNotSpecified")
}
