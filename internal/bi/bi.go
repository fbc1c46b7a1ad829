// Package bi is the connector model: the small set of types and interfaces
// that each BI tool implements once, in its own package (internal/tableau,
// internal/powerbi, …). The provider, the server and the exposures core use a
// tool through them without knowing which tool it is, or its wire format.
package bi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// Tool identifies a BI tool: a handle to its description, compared by
// identity and cheap to copy into every dashboard and exposure. Code branches
// on a Tool value, never on its display name.
type Tool struct{ *ToolInfo }

// NewTool makes a tool's identity; each tool makes one, once.
func NewTool(info ToolInfo) Tool { return Tool{&info} }

// ToolInfo says what a BI tool is called, and how its things are named in
// API answers.
type ToolInfo struct {
	// Name is the integration's name in dbt Cloud's API, e.g. "tableau".
	Name string
	// Label is the tool's name for people, e.g. "Tableau".
	Label string
	// Dashboard is what the tool calls a dashboard ("workbook"); an unnamed
	// dashboard's exposure is named after it.
	Dashboard string
	// DashboardKey names a dashboard's ID in answers ("workbook_id").
	DashboardKey string
	// JobKey names a refresh's job ID in answers ("tableau_job_id").
	JobKey string
	// ScopeKey names a refresh target's scope in answers ("" when none).
	ScopeKey string
	// DatasetColumns says a dashboard's columns are those of the data it is
	// built on, not those its visuals show: the tool does not say which
	// visual uses which field (Power BI's Scanner API).
	DatasetColumns bool
}

// Dashboard is what an exposure is made for: a Tableau workbook, a Power BI
// report, with the warehouse tables and SQL it reads.
type Dashboard struct {
	Tool        Tool
	ID          string
	Name        string
	URL         string
	Description string
	OwnerName   string
	OwnerEmail  string
	Folder      string // where it lives, as a path: "Finance/Quarterly"
	Tags        []string
	Tables      []Table
	CustomSQL   []Query
	// Columns are the warehouse columns it uses, when they were read; nil
	// when they were not asked for.
	Columns           []Column
	UnresolvedColumns []UnresolvedColumn
	// Targets are what refreshing the dashboard's data rebuilds.
	Targets []Target
	// Meta is what the tool records on the exposure, in order: the dbt YAML's
	// meta and the server's answers.
	Meta []Field
}

// Table is a warehouse table a dashboard reads; FullName is used when the
// parts are missing.
type Table struct{ Database, Schema, Name, FullName string }

// Column is a warehouse column a dashboard uses; Derived when only through
// a calculation.
type Column struct {
	Table   Table
	Name    string
	Derived bool
}

// UnresolvedColumn is a column a dashboard uses whose warehouse column is
// not clear, with the reason.
type UnresolvedColumn struct{ Column, Reason string }

// Query is SQL a dashboard runs on a database.
type Query struct{ SQL, Database string }

// Target is something a refresh rebuilds: a Tableau extract, a Power BI dataset.
type Target struct {
	Type  string `json:"type"` // the tool's kind: "datasource", "workbook", "powerbi_dataset"
	ID    string `json:"id"`
	Name  string `json:"name"`
	Scope string `json:"scope,omitempty"` // where the tool addresses it: a Power BI workspace
}

// Field is one key of an exposure's meta.
type Field struct {
	Key   string
	Value any
	// APIOnly keeps the field out of the dbt YAML: the server answers it.
	APIOnly bool
}

// Tree is a tool's content as dbt Cloud's collections endpoints list it:
// folders, and dashboards inside them.
type Tree struct {
	Folders    map[string]string   // folder ID -> name
	Dashboards map[string]string   // dashboard ID -> name
	Children   map[string][]string // folder ID ("" = top) -> child folder IDs
	Contents   map[string][]string // folder ID -> dashboard IDs
}

// NewTree returns an empty tree.
func NewTree() *Tree {
	return &Tree{Folders: map[string]string{}, Dashboards: map[string]string{},
		Children: map[string][]string{}, Contents: map[string][]string{}}
}

// Selection is what an integration watches: folders (with everything below
// them) and single dashboards.
type Selection struct {
	Folders    map[string]bool
	Dashboards map[string]bool
}

// Config is an integration's configuration, secrets included, by field name.
type Config map[string]string

// ConfigField describes one field of an integration's config.
type ConfigField struct {
	Name string // as in the API: config.<Name>
	// Secret fields are never answered, logged or shown in errors.
	Secret bool
	// Required fields must be present on create and never empty.
	Required bool
	// Check vets a non-empty value; its error completes "config.<Name> …".
	Check func(string) error
}

// Env is what a client gets from the program that opens it.
type Env struct {
	Logger    *slog.Logger      // request traces (redacted), retries and warnings
	Transport http.RoundTripper // through the program's egress rules
	Retry     transport.RetryConfig
	UserAgent string
	// ReuseFor is how long a read of the tool may serve again.
	ReuseFor time.Duration
	// Settings are the operator's settings for this tool, by name (for
	// example where a sovereign cloud's API lives).
	Settings map[string]string
}

// Connector is a BI tool, as everything outside its package sees it.
type Connector interface {
	Tool() Tool
	// Config lists the integration's config fields, in the order they are answered.
	Config() []ConfigField
	// Describe names the integration's site or tenant, for messages.
	Describe(c Config) string
	// Open makes a client for one integration; it sends nothing yet.
	Open(c Config, env Env) (Client, error)
}

// Client reads one integration's site or tenant and refreshes its data.
type Client interface {
	// Tree reads the folders and dashboards afresh.
	Tree(ctx context.Context) (*Tree, error)
	// Dashboards reads the dashboards sel covers, with their lineage and
	// refresh targets. It may reuse what Tree read within Env.ReuseFor.
	Dashboards(ctx context.Context, sel Selection) ([]Dashboard, error)
	// StartRefresh starts refreshing a target and returns the job to follow.
	// It is never resent blindly.
	StartRefresh(ctx context.Context, t Target) (job string, err error)
	// RefreshStatus reports whether the job ended and, if it failed, why.
	RefreshStatus(ctx context.Context, t Target, job string) (done bool, failure string, err error)
	// Explain says what a failure of this client means for the integration.
	Explain(err error) Failure
	// Close ends the client's session, if it has one.
	Close(ctx context.Context) error
}

// Failure is a tool's error as the integration's owner needs it.
type Failure struct {
	// Refused means the tool refused the integration's settings: its owner
	// must change them. Otherwise the tool failed or could not be reached.
	Refused bool
	Message string
}

// SortByName orders every level of the tree by name, as the collections
// endpoints list it.
func (t *Tree) SortByName() {
	for _, ids := range t.Children {
		sort.Slice(ids, func(a, b int) bool { return t.Folders[ids[a]] < t.Folders[ids[b]] })
	}
	for _, ids := range t.Contents {
		sort.Slice(ids, func(a, b int) bool { return t.Dashboards[ids[a]] < t.Dashboards[ids[b]] })
	}
}

// Emulator is a tool's emulator as the conformance suite drives it: each
// tool's emulator package offers one serving a small sample site or tenant.
type Emulator interface {
	http.Handler
	// Config is the config of an integration that reaches the emulator at base.
	Config(base string) Config
	// Settings are the operator settings that reach it (nil when it needs none).
	Settings(base string) map[string]string
	// FailRefreshesOf makes every refresh of the target fail.
	FailRefreshesOf(targetID string)
}

// Spec is a connector given as values, which is all most tools need.
type Spec struct {
	Is     Tool
	Fields []ConfigField
	Names  func(Config) string               // Describe
	Opens  func(Config, Env) (Client, error) // Open
}

func (s Spec) Tool() Tool                             { return s.Is }
func (s Spec) Config() []ConfigField                  { return s.Fields }
func (s Spec) Describe(c Config) string               { return s.Names(c) }
func (s Spec) Open(c Config, env Env) (Client, error) { return s.Opens(c, env) }

// ReadJSONFile decodes a JSON file, such as an emulator's fixture, naming the
// file in its errors.
func ReadJSONFile(path string, into any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// TopLister is a Client that reads the tree's top level more lightly than
// Tree does. Checking an integration's credential lists the top level, and
// for some tools a whole Tree is a long job (Power BI's is a scan).
type TopLister interface {
	// Top reads the top-level folders afresh: Folders and Children[""] only.
	Top(ctx context.Context) (*Tree, error)
}
