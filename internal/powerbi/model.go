package powerbi

import (
	"strings"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
)

// ScanResult is scanResult's answer, as far as exposures need it. Power BI's
// key case varies between tenants; encoding/json matches keys ignoring case,
// and unknown keys are ignored.
type ScanResult struct {
	Workspaces          []Workspace          `json:"workspaces"`
	DatasourceInstances []DatasourceInstance `json:"datasourceInstances"`
}

func (r *ScanResult) merge(o *ScanResult) {
	r.Workspaces = append(r.Workspaces, o.Workspaces...)
	r.DatasourceInstances = append(r.DatasourceInstances, o.DatasourceInstances...)
}

// Workspace is a scanned workspace.
type Workspace struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Type     string    `json:"type"`
	State    string    `json:"state"`
	Reports  []Report  `json:"reports"`
	Datasets []Dataset `json:"datasets"`
	Users    []User    `json:"users"`
}

// Report is a Power BI report.
type Report struct {
	ID                 string       `json:"id"`
	Name               string       `json:"name"`
	ReportType         string       `json:"reportType"`
	DatasetID          string       `json:"datasetId"`
	DatasetWorkspaceID string       `json:"datasetWorkspaceId"` // set when the dataset lives in another workspace
	WebURL             string       `json:"webUrl"`
	ModifiedBy         string       `json:"modifiedBy"`
	ModifiedDateTime   string       `json:"modifiedDateTime"`
	Endorsement        *Endorsement `json:"endorsementDetails"`
	Users              []User       `json:"users"`
}

// Endorsement is Promoted or Certified.
type Endorsement struct {
	Endorsement string `json:"endorsement"`
	CertifiedBy string `json:"certifiedBy"`
}

// User is a user with access to an artifact; the right's key names the artifact
// kind (reportUserAccessRight, datasetUserAccessRight, …).
type User struct {
	Identifier    string `json:"identifier"`
	DisplayName   string `json:"displayName"`
	EmailAddress  string `json:"emailAddress"`
	PrincipalType string `json:"principalType"`
	ReportRight   string `json:"reportUserAccessRight"`
	GroupRight    string `json:"groupUserAccessRight"`
}

// Dataset is a semantic model with its tables' Power Query M.
type Dataset struct {
	ID                   string       `json:"id"`
	Name                 string       `json:"name"`
	ConfiguredBy         string       `json:"configuredBy"`
	Tables               []Table      `json:"tables"`
	Expressions          []Expression `json:"expressions"`
	SchemaRetrievalError string       `json:"schemaRetrievalError"`
	DatasourceUsages     []struct {
		DatasourceInstanceID string `json:"datasourceInstanceId"`
	} `json:"datasourceUsages"`
}

// Table is a dataset table; Source[0].Expression is its M.
type Table struct {
	Name     string `json:"name"`
	IsHidden bool   `json:"isHidden"`
	Source   []struct {
		Expression string `json:"expression"`
	} `json:"source"`
	Columns  []Column  `json:"columns"`
	Measures []Measure `json:"measures"`
}

// Column is a dataset table's column (datasetSchema). ColumnType is "Data"
// for a column the M query returns, "Calculated" or "CalculatedTableColumn"
// for one computed in DAX.
type Column struct {
	Name       string `json:"name"`
	DataType   string `json:"dataType"`
	ColumnType string `json:"columnType,omitempty"`
	Expression string `json:"expression,omitempty"`
}

// Measure is a dataset table's DAX measure.
type Measure struct {
	Name       string `json:"name"`
	Expression string `json:"expression"`
}

// Expression is a dataset's shared query or parameter.
type Expression struct {
	Name       string `json:"name"`
	Expression string `json:"expression"`
}

// DatasourceInstance is a connection a dataset uses: server and database, no tables.
type DatasourceInstance struct {
	DatasourceID      string            `json:"datasourceId"`
	DatasourceType    string            `json:"datasourceType"`
	ConnectionDetails map[string]string `json:"connectionDetails"`
}

// ReportURL is the report's address: the API's own when it gives one.
func ReportURL(workspaceID string, r Report) string {
	if r.WebURL != "" {
		return r.WebURL
	}
	return "https://app.powerbi.com/groups/" + workspaceID + "/reports/" + r.ID
}

// Owner is the report's owner: its user with the Owner right, else who last modified it.
func (r Report) Owner() (name, email string) {
	for _, u := range r.Users {
		if strings.EqualFold(u.ReportRight, "Owner") {
			return u.DisplayName, u.EmailAddress
		}
	}
	return "", r.ModifiedBy
}

// Datasets indexes every scanned dataset by ID, so a report finds its dataset
// in any workspace (datasetWorkspaceId).
func (r *ScanResult) Datasets() map[string]*Dataset {
	out := map[string]*Dataset{}
	for wi := range r.Workspaces {
		for di := range r.Workspaces[wi].Datasets {
			d := &r.Workspaces[wi].Datasets[di]
			out[strings.ToLower(d.ID)] = d
		}
	}
	return out
}

// Tree is the scan as dbt Cloud's collections show it: workspaces as
// folders, their reports as dashboards.
func (r *ScanResult) Tree() *bi.Tree {
	t := bi.NewTree()
	for _, w := range r.Workspaces {
		t.Folders[w.ID] = w.Name
		t.Children[""] = append(t.Children[""], w.ID)
		for _, rep := range w.Reports {
			t.Dashboards[rep.ID] = rep.Name
			t.Contents[w.ID] = append(t.Contents[w.ID], rep.ID)
		}
	}
	t.SortByName()
	return t
}
