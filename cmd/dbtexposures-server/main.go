// Command dbtexposures-server is a self-hostable implementation of the subset of
// dbt Cloud's API that terraform-provider-dbtexposures uses.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi"
	pbiemulator "github.com/dbtexposures/terraform-provider-dbtexposures/internal/powerbi/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/server/store"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau/emulator"
	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/transport"
)

const usage = `Usage:
  dbtexposures-server serve [--listen ADDR] [--db PATH|URL] [--bootstrap-token TOKEN]
                           [--sync-interval DURATION] [--bi-cache-ttl DURATION]
                           [--allowed-hosts HOSTS,IPS,CIDRS] [--log-level LEVEL]
                           [--refresh-timeout DURATION]
                           [--powerbi-api-url URL] [--powerbi-login-url URL]
  dbtexposures-server admin create-account --db PATH|URL --name NAME
  dbtexposures-server admin create-environment --db PATH|URL --project ID --name NAME [--deployment-type production|staging]
  dbtexposures-server admin copy --from sqlite:PATH --to postgres://URL
  dbtexposures-server tableau-emulator [--listen ADDR] (--fixture FILE | --generate N) [--latency DURATION]
  dbtexposures-server powerbi-emulator [--listen ADDR] --fixture FILE [--scan-polls N]
                           [--tls-cert FILE --tls-key FILE | --tls-self-signed CA_FILE]

serve flags default to the environment: DBTEXPOSURES_LISTEN (127.0.0.1:8484),
DBTEXPOSURES_DB (./dbtexposures.db: a SQLite file, the default, served by one
process; or postgres://user:password@host/db, which several replicas share),
DBTEXPOSURES_BOOTSTRAP_TOKEN,
DBTEXPOSURES_SYNC_INTERVAL (24h), DBTEXPOSURES_BI_CACHE_TTL (5m),
DBTEXPOSURES_ALLOWED_HOSTS (any host but link-local and cloud-metadata
addresses), DBTEXPOSURES_REFRESH_TIMEOUT (5m), DBTEXPOSURES_POWERBI_API_URL
(https://api.powerbi.com), DBTEXPOSURES_POWERBI_LOGIN_URL
(https://login.microsoftonline.com) and DBTEXPOSURES_LOG_LEVEL (info; trace shows API bodies with
secrets redacted). A value that cannot be used stops the server, named.
--tableau-cache-ttl and --tableau-allowed-hosts (DBTEXPOSURES_TABLEAU_CACHE_TTL,
DBTEXPOSURES_TABLEAU_ALLOWED_HOSTS) are deprecated names of --bi-cache-ttl and
--allowed-hosts: they still work, with a warning.
`

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "dbtexposures-server:", err)
		os.Exit(1)
	}
}

// run runs a command. Asking a command for its help (-h, --help) is a
// success: the flags' usage has been printed.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := dispatch(ctx, args, stdout, stderr); !errors.Is(err, flag.ErrHelp) {
		return err
	}
	return nil
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("a command is required")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stderr)
	case "admin":
		switch {
		case len(args) >= 2 && args[1] == "create-account":
			return createAccount(ctx, args[2:], stdout, stderr)
		case len(args) >= 2 && args[1] == "create-environment":
			return createEnvironment(ctx, args[2:], stdout, stderr)
		case len(args) >= 2 && args[1] == "copy":
			return copyDatabase(ctx, args[2:], stdout, stderr)
		case len(args) >= 2 && (args[1] == "-h" || args[1] == "--help"):
			fmt.Fprint(stdout, usage)
			return nil
		}
		fmt.Fprint(stderr, usage)
		return errors.New("admin takes the subcommand create-account, create-environment or copy")
	case "tableau-emulator":
		return tableauEmulator(ctx, args[1:], stderr)
	case "powerbi-emulator":
		return powerbiEmulator(ctx, args[1:], stderr)
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

// serveOptions are serve's flags, after checking.
type serveOptions struct {
	listen, dbPath, bootstrap     string
	interval, ttl, refreshTimeout time.Duration
	level                         slog.Level
	egress                        *server.Egress
	powerbi                       server.PowerBIConfig
	// warnings are said once the log is set up: deprecated names in use.
	warnings []string
}

// serveEnv names the environment variable behind each serve flag; a flag given
// on the command line wins.
var serveEnv = map[string]string{
	"listen":                "DBTEXPOSURES_LISTEN",
	"db":                    "DBTEXPOSURES_DB",
	"bootstrap-token":       "DBTEXPOSURES_BOOTSTRAP_TOKEN",
	"sync-interval":         "DBTEXPOSURES_SYNC_INTERVAL",
	"bi-cache-ttl":          "DBTEXPOSURES_BI_CACHE_TTL",
	"allowed-hosts":         "DBTEXPOSURES_ALLOWED_HOSTS",
	"tableau-cache-ttl":     "DBTEXPOSURES_TABLEAU_CACHE_TTL",
	"tableau-allowed-hosts": "DBTEXPOSURES_TABLEAU_ALLOWED_HOSTS",
	"log-level":             "DBTEXPOSURES_LOG_LEVEL",
	"refresh-timeout":       "DBTEXPOSURES_REFRESH_TIMEOUT",
	"powerbi-api-url":       "DBTEXPOSURES_POWERBI_API_URL",
	"powerbi-login-url":     "DBTEXPOSURES_POWERBI_LOGIN_URL",
}

// deprecatedFlags maps the names the flags had when they governed Tableau
// alone to the names they have now that they govern every BI tool.
var deprecatedFlags = map[string]string{
	"tableau-cache-ttl":     "bi-cache-ttl",
	"tableau-allowed-hosts": "allowed-hosts",
}

// aliasFlags registers each deprecated name as another way to set its new flag.
func aliasFlags(fs *flag.FlagSet) {
	for old, now := range deprecatedFlags {
		fs.Var(fs.Lookup(now).Value, old, "deprecated: use --"+now)
	}
}

// used is the name a flag was given by: its deprecated one, or its own.
func used(fs *flag.FlagSet, now string) string {
	name := now
	fs.Visit(func(f *flag.Flag) {
		if deprecatedFlags[f.Name] == now {
			name = f.Name
		}
	})
	return name
}

// checkAliases refuses an old and a new name set together, and says once
// that an old name is deprecated.
func checkAliases(fs *flag.FlagSet) (warnings []string, err error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, old := range slices.Sorted(maps.Keys(deprecatedFlags)) {
		now := deprecatedFlags[old]
		switch {
		case set[old] && set[now]:
			return nil, fmt.Errorf("--%s (or %s) and --%s (or %s) are both set: --%s is the deprecated name of --%s, so keep only --%s",
				old, serveEnv[old], now, serveEnv[now], old, now, now)
		case set[old]:
			warnings = append(warnings, fmt.Sprintf("--%s (or %s) is deprecated: use --%s (or %s), which governs every BI tool",
				old, serveEnv[old], now, serveEnv[now]))
		}
	}
	return warnings, nil
}

// parseServe reads serve's flags and their environment variables, and refuses
// any value it cannot use, naming it, rather than starting on a default.
func parseServe(args []string, stderr io.Writer) (*serveOptions, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &serveOptions{}
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8484", "address to listen on")
	fs.StringVar(&o.dbPath, "db", "./dbtexposures.db", "SQLite database file, or a postgres:// URL")
	fs.StringVar(&o.bootstrap, "bootstrap-token", "", "API token for account 1, created on an empty database")
	fs.DurationVar(&o.interval, "sync-interval", 24*time.Hour, "how often exposures are synced besides on selection changes (0 disables)")
	fs.DurationVar(&o.ttl, "bi-cache-ttl", server.DefaultBICacheTTL, "how long what was read from a BI tool (Tableau, Power BI) is reused")
	fs.DurationVar(&o.refreshTimeout, "refresh-timeout", server.DefaultRefreshTimeout, "how long an active exposure run waits for the BI tools' refresh jobs")
	fs.StringVar(&o.powerbi.APIURL, "powerbi-api-url", powerbi.DefaultAPIURL, "Power BI API base URL (a sovereign cloud's, or the emulator's)")
	fs.StringVar(&o.powerbi.LoginURL, "powerbi-login-url", powerbi.DefaultLoginURL, "Entra ID login base URL (a sovereign cloud's, or the emulator's)")
	allowed := fs.String("allowed-hosts", "", "comma-separated host names, IPs and CIDRs the server may read BI tools at (default: any but link-local and cloud-metadata addresses)")
	level := fs.String("log-level", "info", "trace (API bodies, secrets redacted), debug (one line per API call), info, warn or error")
	aliasFlags(fs)
	for name, variable := range serveEnv {
		if v := os.Getenv(variable); v != "" {
			if err := fs.Set(name, v); err != nil {
				return nil, fmt.Errorf("%s=%q is not a valid --%s: %v", variable, v, name, err)
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var err error
	if o.warnings, err = checkAliases(fs); err != nil {
		return nil, err
	}
	if o.interval < 0 {
		return nil, fmt.Errorf("--sync-interval (or DBTEXPOSURES_SYNC_INTERVAL) must not be negative; use 0 to sync only on changes")
	}
	if o.ttl <= 0 {
		name := used(fs, "bi-cache-ttl")
		return nil, fmt.Errorf("--%s (or %s) must be positive, such as 5m", name, serveEnv[name])
	}
	if o.refreshTimeout <= 0 {
		return nil, fmt.Errorf("--refresh-timeout (or DBTEXPOSURES_REFRESH_TIMEOUT) must be positive, such as 5m")
	}
	for _, u := range []struct{ flag, env, v string }{{"powerbi-api-url", "DBTEXPOSURES_POWERBI_API_URL", o.powerbi.APIURL},
		{"powerbi-login-url", "DBTEXPOSURES_POWERBI_LOGIN_URL", o.powerbi.LoginURL}} {
		if p, err := url.Parse(u.v); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return nil, fmt.Errorf("--%s (or %s) %q must be an http(s) URL such as https://api.powerbi.com", u.flag, u.env, u.v)
		}
	}
	if o.level, err = parseLevel(*level); err != nil {
		return nil, err
	}
	if o.egress, err = server.ParseEgress(*allowed); err != nil {
		return nil, fmt.Errorf("--%s: %w", used(fs, "allowed-hosts"), err)
	}
	return o, nil
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	o, err := parseServe(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.level}))
	for _, w := range o.warnings {
		log.Warn(w)
	}
	db, err := store.Open(o.dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.LockForServing(); err != nil {
		return err
	}
	if o.bootstrap != "" {
		created, err := db.Bootstrap(ctx, o.bootstrap)
		if err != nil {
			return fmt.Errorf("bootstrapping: %w", err)
		}
		if created {
			log.Info("bootstrapped empty database: account 1, project 1, usable with the bootstrap token")
		}
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	log.Info("dbtexposures-server listening", "url", "http://"+ln.Addr().String()+"/api", "db", store.RedactDSN(o.dbPath))
	api := server.New(db, log, server.WithBICacheTTL(o.ttl), server.WithEgress(o.egress), server.WithRefreshTimeout(o.refreshTimeout),
		server.WithPowerBI(o.powerbi))
	defer api.Close()
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go api.Run(runCtx, o.interval)
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
	generate := fs.Int("generate", 0, "instead of a fixture, a generated site of this many workbooks with 1 to 4 tables each (site \"acme\", token dbt-discovery / emulator-pat-secret)")
	latency := fs.Duration("latency", 0, "delay every answer by this much, as a network would")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := emulatorSite(*fixture, *generate)
	if err != nil {
		return err
	}
	emu, err := emulator.New(f)
	if err != nil {
		return err
	}
	emu.Latency = *latency
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	slog.New(slog.NewTextHandler(stderr, nil)).Info("Tableau emulator listening", "url", "http://"+ln.Addr().String(),
		"site", f.Site.ContentURL, "projects", len(f.Projects), "workbooks", len(f.Workbooks))
	return serveUntilSignal(ctx, ln, emu)
}

// powerbiEmulator serves a Power BI tenant (Entra ID tokens, the Scanner API,
// refreshes) from a fixture, for demos and users' CI.
func powerbiEmulator(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("powerbi-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8486", "address to listen on; use it as both api_url and login_url")
	fixture := fs.String("fixture", "", "tenant fixture (JSON): tenant_id, client_id, client_secret and a scan_result")
	polls := fs.Int("scan-polls", 2, "scanStatus polls a scan takes to succeed")
	var tlsOpts emulatorTLS
	fs.StringVar(&tlsOpts.cert, "tls-cert", "", "serve HTTPS with this certificate (PEM), with --tls-key")
	fs.StringVar(&tlsOpts.key, "tls-key", "", "the certificate's private key (PEM)")
	fs.StringVar(&tlsOpts.selfSignedCA, "tls-self-signed", "", "serve HTTPS with a certificate of a CA made at start, whose certificate is written to this file for clients to trust")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *fixture == "" {
		return errors.New("--fixture is required, e.g. examples/demo/powerbi-tenant.json")
	}
	if *polls < 1 {
		return fmt.Errorf("--scan-polls must be at least 1, got %d", *polls)
	}
	f, err := pbiemulator.LoadFixture(*fixture)
	if err != nil {
		return err
	}
	emu, err := pbiemulator.New(f)
	if err != nil {
		return err
	}
	emu.ScanPolls = *polls
	host, _, _ := net.SplitHostPort(*listen)
	tlsConfig, err := tlsOpts.config(host)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	scheme, log := "http://", slog.New(slog.NewTextHandler(stderr, nil))
	if tlsConfig != nil {
		scheme, ln = "https://", tls.NewListener(ln, tlsConfig)
	}
	if tlsOpts.selfSignedCA != "" {
		log.Info("the emulator's CA certificate: trust it in clients (e.g. SSL_CERT_FILE)", "ca_file", tlsOpts.selfSignedCA)
	}
	log.Info("Power BI emulator listening", "url", scheme+ln.Addr().String(), "tenant", f.TenantID)
	return serveUntilSignal(ctx, ln, emu)
}

// emulatorSite is the site the emulator serves: a fixture file, or a generated one.
func emulatorSite(fixture string, generate int) (*emulator.Fixture, error) {
	switch {
	case fixture != "" && generate > 0:
		return nil, errors.New("give either --fixture or --generate, not both")
	case generate > 0:
		return emulator.Generate(emulator.GenerateOptions{Workbooks: generate, TablesPerWorkbook: 4, VaryTables: true}), nil
	case generate < 0:
		return nil, fmt.Errorf("--generate must be a positive number of workbooks, got %d", generate)
	case fixture == "":
		return nil, errors.New("--fixture is required, e.g. examples/demo/tableau-site.json (or --generate N)")
	}
	return emulator.LoadFixture(fixture)
}

func createEnvironment(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin create-environment", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := fs.String("db", envOr("DBTEXPOSURES_DB", "./dbtexposures.db"), "SQLite database file, or a postgres:// URL")
	project := fs.Int64("project", 0, "project ID")
	name := fs.String("name", "", "environment name")
	deployment := fs.String("deployment-type", "", "production, staging, or empty for a general deployment environment")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *project <= 0:
		return errors.New("--project is required: the ID of the project the environment belongs to")
	case *name == "":
		return errors.New("--name is required")
	case *deployment != "" && *deployment != "production" && *deployment != "staging":
		return fmt.Errorf("--deployment-type must be production, staging or empty, got %q", *deployment)
	}
	db, err := store.Open(*dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	e, err := db.CreateEnvironment(ctx, *project, *name, *deployment)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(map[string]any{"environment_id": e.ID, "project_id": e.ProjectID, "name": e.Name})
}

// copyDatabase moves a database (SQLite) to another (PostgreSQL), which must
// be empty: every row, in one transaction. Stop the server first.
func copyDatabase(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin copy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the database to copy: sqlite:PATH (or a postgres:// URL)")
	to := fs.String("to", "", "the empty database to copy into: a postgres:// URL (or sqlite:PATH)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return errors.New("admin copy needs --from and --to, e.g. --from sqlite:./dbtexposures.db --to postgres://user@host/dbtexposures")
	}
	src, err := store.Open(*from)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := src.LockForServing(); err != nil {
		return fmt.Errorf("--from: %w", err) // a server still writing would make the copy incomplete
	}
	dst, err := store.Open(*to)
	if err != nil {
		return err
	}
	defer dst.Close()
	copied, err := src.CopyTo(ctx, dst)
	if err != nil {
		return fmt.Errorf("copying %s to %s: %w", store.RedactDSN(*from), store.RedactDSN(*to), err)
	}
	return json.NewEncoder(stdout).Encode(map[string]any{"copied_rows": copied})
}

func createAccount(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin create-account", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := fs.String("db", envOr("DBTEXPOSURES_DB", "./dbtexposures.db"), "SQLite database file, or a postgres:// URL")
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
