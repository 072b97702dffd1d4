package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// User is a workbench account, without its password hash.
type User struct {
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Sessions is the number of signed-in sessions that have not expired.
	Sessions int
}

// Users returns every workbench account, by name.
func (db *DB) Users(ctx context.Context, now time.Time) ([]User, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT u.name, u.created_at, u.updated_at,
		(SELECT COUNT(*) FROM sessions s WHERE s.user_name = u.name AND s.expires_at > ?)
		FROM users u ORDER BY u.name`, formatTime(now))
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		var created, updated sql.NullString
		if err := rows.Scan(&u.Name, &created, &updated, &u.Sessions); err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		if u.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		if u.UpdatedAt, err = parseTime(updated); err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return out, nil
}

// RemoveUser deletes the account name and its sessions, and appends a
// "user.remove" audit row by actor, in one transaction. A missing account
// gives ErrNotFound. Audit rows and reviews that name the account stay.
func (db *DB) RemoveUser(ctx context.Context, name, actor string, now time.Time) error {
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_name = ?`, name); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrNotFound
		}
		_, err = appendAudit(ctx, tx, actor, ActionUserRemove, map[string]string{"user": name}, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove user %s: %w", name, err)
	}
	return nil
}

// Audit actions about workbench accounts.
const (
	ActionUserAdd    = "user.add"
	ActionUserRemove = "user.remove"
)
