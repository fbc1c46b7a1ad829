package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// openPostgres opens a PostgreSQL database through pgx's pool, which
// database/sql then uses, and migrates it. Errors never carry the password.
func openPostgres(dsn string) (*Store, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, redactError(fmt.Errorf("the PostgreSQL URL %s: %w", RedactDSN(dsn), err), dsn)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		// Locks held across replicas each keep a connection (coord.go):
		// pgx's default of four would be too few.
		cfg.MaxConns = 32
	}
	// PostgreSQL ends the session, and the locks a server holds in it, when
	// the server's connection is gone: at once when its process dies, and
	// within about 25 s when its host stops answering, by these keepalives
	// (the system default is hours). A DSN's own settings win.
	for k, v := range map[string]string{"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5", "tcp_keepalives_count": "3"} {
		if _, set := cfg.ConnConfig.RuntimeParams[k]; !set && !strings.Contains(dsn, k) {
			cfg.ConnConfig.RuntimeParams[k] = v
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, redactError(fmt.Errorf("connecting to PostgreSQL at %s: %w", RedactDSN(dsn), err), dsn)
	}
	db := stdlib.OpenDBFromPool(pool)
	s := &Store{db: &sqlDB{DB: db, postgres: true}, close: []func() error{db.Close, func() error { pool.Close(); return nil }}}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, redactError(fmt.Errorf("opening PostgreSQL database %s: %w", RedactDSN(dsn), err), dsn)
	}
	return s, nil
}

// RedactDSN is a database URL fit for logs: a PostgreSQL URL's password is
// replaced, and a password= parameter too.
func RedactDSN(dsn string) string {
	if !IsPostgres(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "a PostgreSQL URL that cannot be parsed"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "REDACTED")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// redactError removes the password of dsn from err's text, whatever wrote it.
func redactError(err error, dsn string) error {
	pw := dsnPassword(dsn)
	if err == nil || pw == "" || !strings.Contains(err.Error(), pw) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), pw, "REDACTED"))
}

func dsnPassword(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	if pw, ok := u.User.Password(); ok {
		return pw
	}
	return u.Query().Get("password")
}

// Setting is a run-time setting of a PostgreSQL session ("" on SQLite or
// when it cannot be read), for tests and diagnostics.
func (s *Store) Setting(ctx context.Context, name string) string {
	if !s.db.postgres {
		return ""
	}
	var v string
	_ = s.db.QueryRowContext(ctx, `SELECT current_setting(?)`, name).Scan(&v)
	return v
}
