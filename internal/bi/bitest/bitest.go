// Package bitest holds the connector conformance suite: the behaviour every
// BI tool's connector must show against its emulator. It only holds test
// helpers.
package bitest

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/bi"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/logtest"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

// Conformance runs the suite for one connector against its emulator:
// configuration validation, discovery, a refresh that succeeds and one that
// fails, a refused credential, and secrets absent from trace logs.
func Conformance(t *testing.T, c bi.Connector, emu bi.Emulator) {
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	cfg := emu.Config(srv.URL)
	logs := &logtest.Buffer{}
	env := traceEnv(logs, emu.Settings(srv.URL))
	t.Run("config", func(t *testing.T) { checkConfig(t, c, cfg) })
	client, err := c.Open(cfg, env)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = client.Close(context.Background()) })
	var dashboards []bi.Dashboard
	t.Run("discovery", func(t *testing.T) { dashboards = checkDiscovery(t, c, client) })
	if lister, ok := client.(bi.TopLister); ok {
		t.Run("top level", func(t *testing.T) { checkTop(t, client, lister) })
	}
	t.Run("refresh", func(t *testing.T) { checkRefresh(t, client, emu, dashboards) })
	t.Run("refused credential", func(t *testing.T) { checkRefused(t, c, cfg, env) })
	t.Run("secrets not logged", func(t *testing.T) {
		for _, f := range c.Config() {
			if f.Secret && cfg[f.Name] != "" && strings.Contains(logs.String(), cfg[f.Name]) {
				t.Errorf("config.%s appears in the trace log", f.Name)
			}
		}
		if !strings.Contains(logs.String(), "API request") {
			t.Error("nothing was traced: the check proves nothing")
		}
	})
}

// traceEnv is what the suite opens clients with: trace logs into logs, quick retries.
func traceEnv(logs *logtest.Buffer, settings map[string]string) bi.Env {
	return bi.Env{
		Logger:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: transport.LevelTrace})),
		Retry:     transport.RetryConfig{MaxRetries: 2, WaitMin: 5 * time.Millisecond, WaitMax: 50 * time.Millisecond, Timeout: 10 * time.Second},
		UserAgent: "dbtexposures-conformance",
		ReuseFor:  time.Minute,
		Settings:  settings,
	}
}

// checkConfig: fields are named, the emulator's config passes every check, a
// secret exists, and control characters are refused by every checked field.
func checkConfig(t *testing.T, c bi.Connector, cfg bi.Config) {
	secret := false
	for _, f := range c.Config() {
		if f.Name == "" {
			t.Fatal("a config field has no name")
		}
		secret = secret || f.Secret
		if f.Check == nil {
			continue
		}
		if v := cfg[f.Name]; v != "" {
			if err := f.Check(v); err != nil {
				t.Errorf("config.%s %q is refused: %v", f.Name, v, err)
			}
		}
		if err := f.Check("bad\x00value"); err == nil {
			t.Errorf("config.%s accepts a control character", f.Name)
		}
	}
	if !secret {
		t.Error("no config field is secret: where is the credential?")
	}
	if d := c.Describe(cfg); d == "" {
		t.Error("Describe says nothing")
	}
}

// checkDiscovery reads the tree, then the dashboards of its first folder
// that has any, and checks they are the tool's, with lineage.
func checkDiscovery(t *testing.T, c bi.Connector, client bi.Client) []bi.Dashboard {
	ctx := context.Background()
	tree, err := client.Tree(ctx)
	if err != nil {
		t.Fatalf("Tree: %v", err)
	}
	folder := ""
	for id, ds := range tree.Contents {
		if len(ds) > 0 && (folder == "" || id < folder) {
			folder = id
		}
	}
	if len(tree.Folders) == 0 || folder == "" {
		t.Fatalf("the sample's tree has no folder with dashboards: %+v", tree)
	}
	every := map[string]bool{}
	for id := range tree.Dashboards {
		every[id] = true
	}
	all, err := client.Dashboards(ctx, bi.Selection{Dashboards: every})
	if err != nil {
		t.Fatalf("Dashboards: %v", err)
	}
	inFolder, err := client.Dashboards(ctx, bi.Selection{Folders: map[string]bool{folder: true}})
	if err != nil {
		t.Fatalf("Dashboards of a folder: %v", err)
	}
	if len(inFolder) == 0 || len(inFolder) > len(all) {
		t.Fatalf("folder %q: %d dashboards of %d", folder, len(inFolder), len(all))
	}
	tables := 0
	for _, d := range all {
		if d.Tool != c.Tool() || d.ID == "" || d.Name == "" || d.URL == "" {
			t.Errorf("dashboard %+v lacks its tool, ID, name or URL", d)
		}
		if _, ok := tree.Dashboards[d.ID]; !ok {
			t.Errorf("dashboard %s is not in the tree", d.ID)
		}
		tables += len(d.Tables) + len(d.CustomSQL)
	}
	if tables == 0 {
		t.Error("no dashboard has lineage")
	}
	return all
}

// checkTop: a client that lists the top level apart lists what Tree does.
func checkTop(t *testing.T, client bi.Client, lister bi.TopLister) {
	ctx := context.Background()
	tree, err := client.Tree(ctx)
	if err != nil {
		t.Fatalf("Tree: %v", err)
	}
	top, err := lister.Top(ctx)
	if err != nil {
		t.Fatalf("Top: %v", err)
	}
	if !slices.Equal(top.Children[""], tree.Children[""]) || len(top.Children[""]) == 0 {
		t.Fatalf("Top lists %v, Tree %v", top.Children[""], tree.Children[""])
	}
	for _, id := range top.Children[""] {
		if top.Folders[id] != tree.Folders[id] {
			t.Errorf("folder %s: Top names it %q, Tree %q", id, top.Folders[id], tree.Folders[id])
		}
	}
}

// checkRefresh refreshes a target until it succeeds, then makes it fail.
func checkRefresh(t *testing.T, client bi.Client, emu bi.Emulator, dashboards []bi.Dashboard) {
	var target *bi.Target
	for _, d := range dashboards {
		if len(d.Targets) > 0 {
			target = &d.Targets[0]
			break
		}
	}
	if target == nil {
		t.Fatal("no dashboard of the sample has a refresh target")
	}
	if failure := refresh(t, client, *target); failure != "" {
		t.Fatalf("refresh failed: %s", failure)
	}
	emu.FailRefreshesOf(target.ID)
	if failure := refresh(t, client, *target); failure == "" {
		t.Fatal("a refresh set to fail succeeded")
	}
}

// refresh starts a refresh and follows it to its end, within 10 s.
func refresh(t *testing.T, client bi.Client, target bi.Target) string {
	ctx := context.Background()
	job, err := client.StartRefresh(ctx, target)
	if err != nil {
		t.Fatalf("StartRefresh(%+v): %v", target, err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		done, failure, err := client.RefreshStatus(ctx, target, job)
		if err != nil {
			t.Fatalf("RefreshStatus: %v", err)
		}
		if done {
			return failure
		}
	}
	t.Fatalf("refresh job %s did not end", job)
	return ""
}

// checkRefused opens a client with each secret wrong: reading fails, Explain
// says the settings were refused, and neither secret is in the message.
func checkRefused(t *testing.T, c bi.Connector, cfg bi.Config, env bi.Env) {
	wrong := bi.Config{}
	for k, v := range cfg {
		wrong[k] = v
	}
	for _, f := range c.Config() {
		if f.Secret {
			wrong[f.Name] = "wrong-" + f.Name
		}
	}
	client, err := c.Open(wrong, env)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	_, err = client.Tree(context.Background())
	if err == nil {
		t.Fatal("a wrong secret was accepted")
	}
	if top, ok := client.(bi.TopLister); ok {
		if _, err := top.Top(context.Background()); err == nil || !client.Explain(err).Refused {
			t.Errorf("Top with a wrong secret: %v, not refused settings", err)
		}
	}
	f := client.Explain(err)
	if !f.Refused || f.Message == "" {
		t.Errorf("a wrong secret is not explained as refused settings: %+v", f)
	}
	for _, field := range c.Config() {
		if field.Secret && (strings.Contains(f.Message, cfg[field.Name]) || strings.Contains(f.Message, wrong[field.Name])) {
			t.Errorf("the message shows config.%s: %s", field.Name, f.Message)
		}
	}
}
