package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Audit actions written by the store itself.
const (
	ActionSweepBegin  = "sweep.begin"
	ActionSweepResume = "sweep.resume"
	ActionSweepFinish = "sweep.finish"
	ActionReview      = "review"
)

// GenesisHash is the prev_hash of the first audit row: 64 zeros.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// ErrAuditBroken is wrapped by every problem VerifyAudit reports.
var ErrAuditBroken = errors.New("audit chain broken")

// AuditEntry is one row of the append-only, hash-chained audit log.
type AuditEntry struct {
	ID       int64           `json:"id"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Details  json.RawMessage `json:"details"` // compact JSON, exactly as hashed
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// AuditHash returns the hash an audit row must carry: the hex SHA-256 of
//
//	prev_hash "\n" id "\n" at "\n" actor "\n" action "\n" details
//
// where id is decimal, at is the stored UTC timestamp
// ("2006-01-02T15:04:05.000000000Z"), actor and action contain no control
// characters and details is the compact JSON text as stored. Anyone holding
// an excerpt of the log (custody.log) can recompute the chain from this.
func AuditHash(e AuditEntry) string {
	var b strings.Builder
	b.WriteString(e.PrevHash)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatInt(e.ID, 10))
	b.WriteByte('\n')
	b.WriteString(formatTime(e.At))
	b.WriteByte('\n')
	b.WriteString(e.Actor)
	b.WriteByte('\n')
	b.WriteString(e.Action)
	b.WriteByte('\n')
	b.Write(e.Details)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// Audit appends a row to the audit log. details is encoded as JSON (nil
// becomes {}).
func (db *DB) Audit(ctx context.Context, actor, action string, details any, now time.Time) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		_, err := appendAudit(ctx, tx, actor, action, details, now)
		return err
	})
}

// appendAudit adds an audit row inside tx. The transaction holds the write
// lock (BEGIN IMMEDIATE), so reading the chain's tail and appending to it
// cannot interleave with another writer.
func appendAudit(ctx context.Context, tx querier, actor, action string, details any, now time.Time) (AuditEntry, error) {
	if err := checkAuditName("actor", actor); err != nil {
		return AuditEntry{}, err
	}
	if err := checkAuditName("action", action); err != nil {
		return AuditEntry{}, err
	}
	if now.IsZero() {
		return AuditEntry{}, fmt.Errorf("audit %s: zero time", action)
	}
	var raw []byte
	if details == nil {
		raw = []byte("{}")
	} else {
		var err error
		if raw, err = json.Marshal(details); err != nil {
			return AuditEntry{}, fmt.Errorf("audit %s: encode details: %w", action, err)
		}
	}

	// Ids are never reused (AUTOINCREMENT); the next one is part of the hash.
	var seq int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0)`).Scan(&seq); err != nil {
		return AuditEntry{}, fmt.Errorf("audit %s: %w", action, err)
	}
	prev := GenesisHash
	err := tx.QueryRowContext(ctx, `SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return AuditEntry{}, fmt.Errorf("audit %s: %w", action, err)
	}
	e := AuditEntry{
		ID:       seq + 1,
		At:       now.UTC().Round(0),
		Actor:    actor,
		Action:   action,
		Details:  raw,
		PrevHash: prev,
	}
	e.Hash = AuditHash(e)
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (id, at, actor, action, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.ID, formatTime(e.At), e.Actor, e.Action, string(e.Details), e.PrevHash, e.Hash); err != nil {
		return AuditEntry{}, fmt.Errorf("audit %s: %w", action, err)
	}
	return e, nil
}

func checkAuditName(what, s string) error {
	if s == "" {
		return fmt.Errorf("audit: empty %s", what)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return fmt.Errorf("audit: %s %q contains a control character", what, s)
	}
	return nil
}

// AuditEntries returns the audit rows at or after since (all rows if since
// is zero), in chain order.
func (db *DB) AuditEntries(ctx context.Context, since time.Time) ([]AuditEntry, error) {
	var entries []AuditEntry
	err := db.auditEach(ctx, since, func(e AuditEntry, storedAt string) error {
		if e.At.IsZero() {
			return fmt.Errorf("audit row %d: bad time %q", e.ID, storedAt)
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	return entries, nil
}

// auditEach calls fn with each audit row at or after since, in id order,
// and the row's stored timestamp text.
func (db *DB) auditEach(ctx context.Context, since time.Time, fn func(e AuditEntry, storedAt string) error) error {
	rows, err := db.db.QueryContext(ctx, `SELECT id, at, actor, action, details, prev_hash, hash
		FROM audit_log WHERE at >= ? ORDER BY id`, formatTime(since))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e AuditEntry
		var at sql.NullString
		var details string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &details, &e.PrevHash, &e.Hash); err != nil {
			return err
		}
		e.At, _ = parseTime(at) // zero if unparseable; the caller decides
		e.Details = json.RawMessage(details)
		if err := fn(e, at.String); err != nil {
			return err
		}
	}
	return rows.Err()
}

// AuditProblem is one defect VerifyAudit found in the chain. It wraps
// ErrAuditBroken.
type AuditProblem struct {
	ID      int64  // the row at which the problem shows
	Problem string // what is wrong
}

func (p *AuditProblem) Error() string {
	return fmt.Sprintf("audit row %d: %s", p.ID, p.Problem)
}

// Unwrap makes errors.Is(err, ErrAuditBroken) true.
func (p *AuditProblem) Unwrap() error { return ErrAuditBroken }

// VerifyAudit re-checks the whole audit chain: every row's hash against its
// contents (an edited row), every prev_hash against the previous row's hash
// (a reordered or deleted row, or a rewritten chain), gaps in the ids and
// rows cut from the end (ids are never reused, so the AUTOINCREMENT sequence
// remembers the last one). It returns nil if the chain is intact, otherwise
// every problem found, each an *AuditProblem naming the row.
func (db *DB) VerifyAudit(ctx context.Context) error {
	var (
		problems []error
		prevID   int64
		prevHash = GenesisHash
		byHash   = map[string]int64{} // stored hash -> row id
		links    []brokenLink
	)
	report := func(id int64, format string, args ...any) {
		problems = append(problems, &AuditProblem{ID: id, Problem: fmt.Sprintf(format, args...)})
	}
	err := db.auditEach(ctx, time.Time{}, func(e AuditEntry, storedAt string) error {
		byHash[e.Hash] = e.ID
		if got := AuditHash(e); got != e.Hash {
			report(e.ID, "edited: contents do not match the stored hash")
		} else if storedAt != formatTime(e.At) {
			report(e.ID, "edited: time %q rewritten (hashed as %q)", storedAt, formatTime(e.At))
		}
		if e.ID != prevID+1 {
			if prevID == 0 {
				report(e.ID, "rows 1..%d deleted: chain does not start at row 1", e.ID-1)
			} else {
				report(e.ID, "rows %d..%d deleted: gap after row %d", prevID+1, e.ID-1, prevID)
			}
		}
		if e.PrevHash != prevHash && e.ID == prevID+1 {
			// With a gap the deletion has been reported already.
			links = append(links, brokenLink{id: e.ID, prevID: prevID, prevHash: e.PrevHash})
		}
		prevID, prevHash = e.ID, e.Hash
		return nil
	})
	if err != nil {
		return fmt.Errorf("verify audit: %w", err)
	}
	// Broken links are explained once every row's hash is known.
	for _, l := range links {
		switch other, ok := byHash[l.prevHash]; {
		case l.prevHash == GenesisHash:
			report(l.id, "reordered: row claims to be the first of the chain")
		case ok && other != l.id:
			report(l.id, "reordered: prev_hash links to row %d, not to the row before it", other)
		case l.prevID == 0:
			report(l.id, "first row's prev_hash is not %s", GenesisHash)
		default:
			report(l.id, "prev_hash does not match row %d's hash: row %d was edited and re-hashed, or rows were replaced", l.prevID, l.prevID)
		}
	}
	var seq int64
	if err := db.db.QueryRowContext(ctx, `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0)`).Scan(&seq); err != nil {
		return fmt.Errorf("verify audit: %w", err)
	}
	if seq > prevID {
		report(seq, "rows %d..%d deleted from the end of the chain", prevID+1, seq)
	}
	if len(problems) == 0 {
		return nil
	}
	slices.SortStableFunc(problems, func(a, b error) int {
		return cmp.Compare(a.(*AuditProblem).ID, b.(*AuditProblem).ID)
	})
	return fmt.Errorf("verify audit: %w", errors.Join(problems...))
}

// brokenLink is a row whose prev_hash is not the previous row's hash.
type brokenLink struct {
	id       int64
	prevID   int64 // the row before it
	prevHash string
}
