// Command dbtexposures-server is a self-hostable implementation of the subset of
// dbt Cloud's API that terraform-provider-dbtexposures uses.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

const usage = `Usage:
  dbtexposures-server serve [--listen ADDR] [--db PATH] [--bootstrap-token TOKEN]
  dbtexposures-server admin create-account --db PATH --name NAME
  dbtexposures-server tableau-emulator [--listen ADDR] --fixture FILE

serve flags default to the environment: DBTEXPOSURES_LISTEN (127.0.0.1:8484),
DBTEXPOSURES_DB (./dbtexposures.db), DBTEXPOSURES_BOOTSTRAP_TOKEN and
DBTEXPOSURES_LOG_LEVEL (info; trace shows API bodies with secrets redacted).
`

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "dbtexposures-server:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("a command is required")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stderr)
	case "admin":
		if len(args) < 2 || args[1] != "create-account" {
			fmt.Fprint(stderr, usage)
			return errors.New("admin takes the subcommand create-account")
		}
		return createAccount(ctx, args[2:], stdout, stderr)
	case "tableau-emulator":
		return tableauEmulator(ctx, args[1:], stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func durationEnv(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", envOr("DBTEXPOSURES_LISTEN", "127.0.0.1:8484"), "address to listen on")
	dbPath := fs.String("db", envOr("DBTEXPOSURES_DB", "./dbtexposures.db"), "SQLite database file")
	bootstrap := fs.String("bootstrap-token", os.Getenv("DBTEXPOSURES_BOOTSTRAP_TOKEN"), "API token for account 1, created on an empty database")
	interval := fs.Duration("sync-interval", durationEnv("DBTEXPOSURES_SYNC_INTERVAL", 24*time.Hour), "how often exposures are synced besides on selection changes (0 disables)")
	ttl := fs.Duration("tableau-cache-ttl", durationEnv("DBTEXPOSURES_TABLEAU_CACHE_TTL", server.DefaultTableauTTL), "how long what was read from Tableau is reused")
	logLevel := fs.String("log-level", envOr("DBTEXPOSURES_LOG_LEVEL", "info"), "trace (API bodies, secrets redacted), debug (one line per API call), info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level, err := parseLevel(*logLevel)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	db, err := store.Open(*dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	if *bootstrap != "" {
		created, err := db.Bootstrap(ctx, *bootstrap)
		if err != nil {
			return fmt.Errorf("bootstrapping: %w", err)
		}
		if created {
			log.Info("bootstrapped empty database: account 1, project 1, usable with the bootstrap token")
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	log.Info("dbtexposures-server listening", "url", "http://"+ln.Addr().String()+"/api", "db", *dbPath)
	api := server.New(db, log, server.WithTableauTTL(*ttl))
	defer api.Close()
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go api.Run(runCtx, *interval)
	return serveUntilSignal(ctx, ln, api)
}

// parseLevel reads --log-level; trace is below slog's debug.
func parseLevel(name string) (slog.Level, error) {
	if strings.EqualFold(name, "trace") {
		return transport.LevelTrace, nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(name)); err != nil {
		return 0, fmt.Errorf("--log-level (or DBTEXPOSURES_LOG_LEVEL) %q is not one of trace, debug, info, warn, error", name)
	}
	return l, nil
}

// serveUntilSignal serves until SIGINT/SIGTERM, then shuts down gracefully.
func serveUntilSignal(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// tableauEmulator serves a Tableau site from a fixture, for demos and users' CI.
func tableauEmulator(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("tableau-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8485", "address to listen on")
	fixture := fs.String("fixture", "", "site fixture (JSON); its personal_access_token is what clients sign in with")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *fixture == "" {
		return errors.New("--fixture is required, e.g. examples/demo/tableau-site.json")
	}
	f, err := emulator.LoadFixture(*fixture)
	if err != nil {
		return err
	}
	emu, err := emulator.New(f)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	slog.New(slog.NewTextHandler(stderr, nil)).Info("Tableau emulator listening", "url", "http://"+ln.Addr().String(),
		"site", f.Site.ContentURL, "projects", len(f.Projects), "workbooks", len(f.Workbooks))
	return serveUntilSignal(ctx, ln, emu)
}

func createAccount(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin create-account", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := fs.String("db", envOr("DBTEXPOSURES_DB", "./dbtexposures.db"), "SQLite database file")
	name := fs.String("name", "", "account name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" {
		return errors.New("--name is required")
	}
	db, err := store.Open(*dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	acct, proj, token, err := db.CreateAccount(ctx, *name)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(map[string]any{"account_id": acct, "project_id": proj, "token": token})
}
