// Package store persists snoop's sweeps, fetched pages with their exact
// request and response bytes (the evidence), listings and their price and
// text history, hits, analyst reviews, a hash-chained audit log and the crawl
// frontier in one SQLite database.
//
// The database runs in WAL mode with foreign keys on, a 10 s busy timeout and
// synchronous=FULL, and every write transaction starts with BEGIN IMMEDIATE,
// so several processes (a running `snoop serve` and a `snoop review`, say)
// can write to one file without "database is locked" upgrade deadlocks. The
// schema is created by the numbered migrations in migrations/*.sql, each run
// in its own transaction and recorded in the schema_version table.
//
// Timestamps are stored as UTC RFC 3339 text with a fixed nine-digit
// fraction, e.g. "2026-03-01T12:00:00.000000000Z", which sorts correctly as a
// string. JSON columns hold compact JSON text.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// ErrNotFound is returned (wrapped) when a requested row does not exist.
var ErrNotFound = errors.New("not found")

//go:embed migrations/*.sql
var migrationFS embed.FS

// timeFormat is RFC 3339 with a fixed-width fraction so that stored
// timestamps compare correctly as text. time.RFC3339Nano parses it.
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// dsnParams are applied by the driver to every connection of the pool.
//
// synchronous=FULL: in WAL mode NORMAL keeps the database consistent but may
// lose the last committed transactions on power loss or an OS crash. A
// committed SavePage, review or audit row is what snoop tells an analyst (and
// later a court) was recorded, so it must survive; FULL syncs the WAL on
// every commit and costs one fsync per transaction.
const dsnParams = "_journal_mode=WAL&_busy_timeout=10000&_foreign_keys=on&_synchronous=FULL&_txlock=immediate&_stmt_cache_size=64"

// Options tune OpenWith. The zero value gives Open's defaults.
type Options struct {
	// BusyTimeout is how long a statement waits for a lock held by another
	// connection (another process's write transaction) before it fails
	// with "database is locked". Zero means 10 s.
	BusyTimeout time.Duration
	// MaxOpenConns bounds the connections to the file. Every connection
	// has its own page cache, so a sweep of thousands of marketplaces must
	// not open one per marketplace; readers beyond it wait their turn.
	// Zero means DefaultMaxOpenConns.
	MaxOpenConns int
}

// DefaultMaxOpenConns is the connection bound of Open.
const DefaultMaxOpenConns = 16

// DB is a snoop database. It is safe for concurrent use.
type DB struct {
	db *sql.DB

	// Path is the database file the DB was opened on.
	Path string

	// Actor names who runs this process in audit rows written on its own
	// behalf (sweep start and finish). Open sets it to the OS user name
	// ($USER, else "uid:N" when the system has no name for the user);
	// commands set it to the analyst who runs them.
	Actor string

	// Now returns the current time for bookkeeping columns that callers do
	// not pass a time for (frontier updates, migrations). Open sets it to
	// time.Now; tests may replace it.
	Now func() time.Time

	// RawEvidence stores new evidence bytes uncompressed, as before
	// evidence compression; for measuring against that baseline.
	RawEvidence bool

	// testHookAfterListing, if set, runs inside SavePage's transaction after
	// each listing is written; an error aborts the transaction.
	testHookAfterListing func() error
}

// Open opens (creating if needed) the database at path and brings its schema
// up to date.
func Open(ctx context.Context, path string) (*DB, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, path string, opts Options) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	params := dsnParams
	if opts.BusyTimeout > 0 {
		params = strings.Replace(params, "_busy_timeout=10000", "_busy_timeout="+strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10), 1)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: params}
	sqldb, err := sql.Open("sqlite3", u.String())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if opts.MaxOpenConns <= 0 {
		opts.MaxOpenConns = DefaultMaxOpenConns
	}
	sqldb.SetMaxOpenConns(opts.MaxOpenConns)
	sqldb.SetMaxIdleConns(opts.MaxOpenConns)
	db := &DB{db: sqldb, Path: path, Actor: currentUser(), Now: time.Now}

	var mode string
	if err := sqldb.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		sqldb.Close()
		return nil, fmt.Errorf("open %s: journal mode is %q, want wal", path, mode)
	}
	if err := db.migrate(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open %s: migrate: %w", path, err)
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error {
	return db.db.Close()
}

func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if name := os.Getenv("USER"); name != "" {
		return name
	}
	return "uid:" + strconv.Itoa(os.Getuid())
}

// migration is one embedded migrations/NNNN_name.sql file.
type migration struct {
	version int
	name    string
}

func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	seen := map[int]string{}
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and '_'", base)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migration %s: version %d already used by %s", base, v, other)
		}
		seen[v] = base
		ms = append(ms, migration{version: v, name: base})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrate creates schema_version and runs every migration not yet recorded
// there, each in its own transaction.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	ms, err := migrations()
	if err != nil {
		return err
	}
	var current int
	if err := db.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return fmt.Errorf("read schema_version: %w", err)
	}
	if latest := ms[len(ms)-1].version; current > latest {
		return fmt.Errorf("database schema version %d is newer than this program's %d", current, latest)
	}
	for _, m := range ms {
		if err := db.migrateOne(ctx, m); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
	}
	return nil
}

func (db *DB) migrateOne(ctx context.Context, m migration) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		// Checked inside the (immediate) transaction so that two processes
		// opening a new file at once do not both apply a migration.
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_version WHERE version = ?`, m.version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		buf, err := fs.ReadFile(migrationFS, "migrations/"+m.name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, formatTime(db.Now()))
		return err
	})
}

// withTx runs fn in a write transaction (BEGIN IMMEDIATE, see dsnParams) and
// commits if fn returns nil; otherwise, or if ctx ends, it rolls back.
func (db *DB) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// querier runs the statements of a transaction: a *sql.Tx, or the
// connection of withConnTx.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// withConnTx runs fn in a write transaction, like withTx, on a connection
// taken from the pool, with BEGIN IMMEDIATE, COMMIT and ROLLBACK run as
// statements. Inside a *sql.Tx, database/sql starts a goroutine for every
// query to watch the transaction's context, which costs more than SQLite's
// own work for the lookups a sweep makes for each page it stores; on a
// connection, a query under a context that cannot be cancelled starts none.
// A connection left inside a transaction is never returned to the pool.
func (db *DB) withConnTx(ctx context.Context, fn func(q querier) error) error {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			rollback(context.WithoutCancel(ctx), conn)
		}
	}()
	if err := fn(conn); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return err
	}
	committed = true
	return nil
}

// rollback ends the transaction open on conn; when that fails and the
// connection is still inside a transaction, the connection is closed
// rather than returned to the pool.
func rollback(ctx context.Context, conn *sql.Conn) {
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err == nil {
		return
	}
	conn.Raw(func(dc any) error {
		if c, ok := dc.(interface{ AutoCommit() bool }); ok && c.AutoCommit() {
			return nil // SQLite already rolled the transaction back
		}
		return driver.ErrBadConn
	})
}

// formatTime formats t for storage; the zero time is stored as "".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

// parseTime parses a stored time; "" and NULL give the zero time.
func parseTime(s sql.NullString) (time.Time, error) {
	if !s.Valid || s.String == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse stored time %q: %w", s.String, err)
	}
	return t, nil
}

// limitOffset returns LIMIT and OFFSET arguments; SQLite's LIMIT -1 means
// no limit.
func limitOffset(limit, offset int) (int, int) {
	if limit <= 0 {
		limit = -1
	}
	if offset < 0 {
		offset = 0
	}
	return limit, offset
}

// placeholders returns "?, ?, ?" for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
