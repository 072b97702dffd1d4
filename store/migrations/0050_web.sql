-- 0050: what `snoop serve` keeps for the analyst web UI: accounts with
-- hashed passwords, browser sessions (only a hash of each session token is
-- stored), and each analyst's "last looked" time for "new since you last
-- looked".

CREATE TABLE users (
	name          TEXT PRIMARY KEY,
	password_hash TEXT NOT NULL,                 -- bcrypt
	created_at    TEXT NOT NULL,
	updated_at    TEXT NOT NULL
);

CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,                 -- hex sha256 of the cookie value
	user_name  TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
	csrf       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE last_looks (
	user_name TEXT PRIMARY KEY,                  -- a user name, or the local actor when auth is off
	at        TEXT NOT NULL
);
