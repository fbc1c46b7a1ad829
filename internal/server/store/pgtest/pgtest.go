// Package pgtest starts a throwaway PostgreSQL cluster for tests: in a
// temporary folder, on a free port, as the postgres user when the tests run
// as root, and removed when they end. Tests never mock the database.
package pgtest

import (
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// cluster is the running server.
type cluster struct {
	root  string // the temporary folder: the cluster's files and socket
	dir   string // the cluster's data
	port  int
	pgCtl string
	runAs string // "postgres" when the tests run as root
	// durable keeps fsync on: for benchmarks that compare with SQLite's
	// synchronous=FULL. Tests turn it off, for speed.
	durable bool
}

var (
	once    sync.Once
	running *cluster
	failure error
	dbs     atomic.Int64
)

// Main runs the tests, then stops and removes the cluster if one was
// started: TestMain is os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if running != nil {
		if out, err := running.command("pg_ctl", "-D", running.dir, "-m", "immediate", "stop").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stopping PostgreSQL: %v\n%s", err, out)
		}
		os.RemoveAll(running.root)
	}
	return code
}

// DSN is a new, empty database of the shared cluster (started on first
// use), as a postgres:// URL. Without PostgreSQL the test fails and says how
// to install it.
func DSN(tb testing.TB) string {
	tb.Helper()
	once.Do(func() {
		c := &cluster{}
		if failure = c.start(); failure != nil {
			os.RemoveAll(c.root)
			return
		}
		running = c
	})
	if failure != nil {
		tb.Fatalf("PostgreSQL for the tests: %v", failure)
	}
	return running.database(tb)
}

// Cluster is a cluster of one test's own, which it may stop and start.
type Cluster struct{ c *cluster }

// NewCluster starts a cluster for one test; it is removed when the test ends.
func NewCluster(tb testing.TB) *Cluster { tb.Helper(); return newCluster(tb, false) }

// NewDurableCluster is NewCluster with fsync on, as in production.
func NewDurableCluster(tb testing.TB) *Cluster { tb.Helper(); return newCluster(tb, true) }

func newCluster(tb testing.TB, durable bool) *Cluster {
	tb.Helper()
	c := &cluster{durable: durable}
	tb.Cleanup(func() {
		if c.dir != "" {
			_ = c.command("pg_ctl", "-D", c.dir, "-m", "immediate", "stop").Run()
		}
		os.RemoveAll(c.root)
	})
	if err := c.start(); err != nil {
		tb.Fatalf("PostgreSQL for the test: %v", err)
	}
	return &Cluster{c}
}

// DSN is a new, empty database of the cluster.
func (c *Cluster) DSN(tb testing.TB) string { tb.Helper(); return c.c.database(tb) }

// Stop stops the cluster at once, as a crash would.
func (c *Cluster) Stop(tb testing.TB) {
	tb.Helper()
	if out, err := c.c.command("pg_ctl", "-D", c.c.dir, "-m", "immediate", "stop").CombinedOutput(); err != nil {
		tb.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

// Start starts the stopped cluster again, on the same port.
func (c *Cluster) Start(tb testing.TB) {
	tb.Helper()
	if err := c.c.run(); err != nil {
		tb.Fatal(err)
	}
}

// database creates an empty database and returns its URL.
func (c *cluster) database(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("t%d", dbs.Add(1))
	admin, err := sql.Open("pgx", c.url("postgres"))
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("creating a test database: %v", err)
	}
	return c.url(name)
}

func (c *cluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres:unused-password@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// start makes a cluster in a temporary folder and starts it.
func (c *cluster) start() error {
	initdb, err := find("initdb")
	if err != nil {
		return err
	}
	if c.pgCtl, err = find("pg_ctl"); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		c.runAs = "postgres" // PostgreSQL refuses to run as root
	}
	if c.root, err = os.MkdirTemp("", "dbtexposures-pg-"); err != nil {
		return err
	}
	if err := c.own(); err != nil {
		return err
	}
	data := filepath.Join(c.root, "data")
	if out, err := c.command(initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	if c.port, err = freePort(); err != nil {
		return err
	}
	c.dir = data
	return c.run()
}

// run starts the cluster's server.
func (c *cluster) run() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200", c.port, c.root)
	if !c.durable {
		opts += " -c fsync=off"
	}
	if out, err := c.command("pg_ctl", "-D", c.dir, "-l", filepath.Join(c.root, "log"), "-o", opts, "-w", "start").CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl start: %v\n%s", err, out)
	}
	return nil
}

// own gives the folder to the user PostgreSQL runs as.
func (c *cluster) own() error {
	if c.runAs == "" {
		return nil
	}
	u, err := user.Lookup(c.runAs)
	if err != nil {
		return fmt.Errorf("the tests run as root, and PostgreSQL must run as the user %q, which does not exist: %w", c.runAs, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(c.root, uid, gid)
}

// command runs a PostgreSQL program, as the postgres user when root.
func (c *cluster) command(name string, args ...string) *exec.Cmd {
	if name == "pg_ctl" {
		name = c.pgCtl
	}
	if c.runAs == "" {
		return exec.Command(name, args...)
	}
	return exec.Command("runuser", append([]string{"-u", c.runAs, "--", name}, args...)...)
}

// find looks for a PostgreSQL program on PATH, then where Debian puts it.
func find(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	if found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name); len(found) > 0 {
		return found[len(found)-1], nil
	}
	return "", fmt.Errorf("%s is not on PATH nor under /usr/lib/postgresql/*/bin: install PostgreSQL (apt-get install postgresql)", name)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
