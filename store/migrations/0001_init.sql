-- 0001: sweeps, pages, evidence, listings with versions, hits, reviews and
-- the hash-chained audit log. Timestamps are UTC RFC 3339 text with a fixed
-- nine-digit fraction ("2006-01-02T15:04:05.000000000Z") so that they sort
-- correctly as strings. JSON columns hold compact JSON text.

CREATE TABLE sweeps (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	status       TEXT    NOT NULL CHECK (status IN ('running', 'completed', 'interrupted', 'failed')),
	started_at   TEXT    NOT NULL,
	finished_at  TEXT,
	rule_version TEXT    NOT NULL DEFAULT '',
	stats        TEXT                               -- JSON, NULL until finished
);

CREATE TABLE sweep_markets (
	sweep_id INTEGER NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	market   TEXT    NOT NULL,
	PRIMARY KEY (sweep_id, market)
);

CREATE TABLE pages (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	sweep_id   INTEGER NOT NULL REFERENCES sweeps (id),
	market     TEXT    NOT NULL,
	url        TEXT    NOT NULL,
	depth      INTEGER NOT NULL DEFAULT 0,
	status     INTEGER NOT NULL DEFAULT 0,
	fetched_at TEXT    NOT NULL
);
CREATE INDEX pages_sweep_market ON pages (sweep_id, market);

-- evidence holds the exact request and response bytes of one fetch.
CREATE TABLE evidence (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	page_id           INTEGER NOT NULL REFERENCES pages (id),
	url               TEXT    NOT NULL,
	method            TEXT    NOT NULL,
	status            INTEGER NOT NULL DEFAULT 0,
	fetched_at        TEXT    NOT NULL,
	request_bytes     BLOB    NOT NULL,
	response_bytes    BLOB    NOT NULL,
	sha256            TEXT    NOT NULL CHECK (length(sha256) = 64),
	remote_addr       TEXT    NOT NULL DEFAULT '',
	proxy             TEXT    NOT NULL DEFAULT '',
	tls               TEXT,                          -- JSON, NULL for plain http
	truncated         INTEGER NOT NULL DEFAULT 0 CHECK (truncated IN (0, 1)),
	warc_record_id    TEXT    NOT NULL UNIQUE,       -- response record
	request_record_id TEXT    NOT NULL UNIQUE
);
CREATE INDEX evidence_page ON evidence (page_id);

CREATE TABLE listings (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	market           TEXT    NOT NULL,
	url              TEXT    NOT NULL,
	first_seen       TEXT    NOT NULL,
	last_seen        TEXT    NOT NULL,
	first_sweep_id   INTEGER NOT NULL REFERENCES sweeps (id),
	last_sweep_id    INTEGER NOT NULL REFERENCES sweeps (id),
	last_evidence_id INTEGER NOT NULL REFERENCES evidence (id),
	content_hash     TEXT    NOT NULL,
	title            TEXT    NOT NULL DEFAULT '',
	description      TEXT    NOT NULL DEFAULT '',
	price            TEXT    NOT NULL DEFAULT '',
	vendor           TEXT    NOT NULL DEFAULT '',
	fields           TEXT    NOT NULL DEFAULT '{}',  -- JSON object
	text             TEXT    NOT NULL DEFAULT '',
	gone_at          TEXT,                           -- set by MarkGone, cleared when seen again
	UNIQUE (market, url)
);
CREATE INDEX listings_market_sweep ON listings (market, last_sweep_id);

-- listing_versions holds one row per distinct content of a listing (the
-- first one included): its price and text history.
CREATE TABLE listing_versions (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	listing_id   INTEGER NOT NULL REFERENCES listings (id),
	sweep_id     INTEGER NOT NULL REFERENCES sweeps (id),
	evidence_id  INTEGER NOT NULL REFERENCES evidence (id),
	seen_at      TEXT    NOT NULL,
	content_hash TEXT    NOT NULL,
	title        TEXT    NOT NULL DEFAULT '',
	description  TEXT    NOT NULL DEFAULT '',
	price        TEXT    NOT NULL DEFAULT '',
	vendor       TEXT    NOT NULL DEFAULT '',
	fields       TEXT    NOT NULL DEFAULT '{}',
	text         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX listing_versions_listing ON listing_versions (listing_id);

CREATE TABLE hits (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	listing_id       INTEGER NOT NULL UNIQUE REFERENCES listings (id),
	score            REAL    NOT NULL,
	substances       TEXT    NOT NULL DEFAULT '[]',  -- JSON array of Substance
	rule_version     TEXT    NOT NULL DEFAULT '',
	status           TEXT    NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'confirmed', 'false_positive')),
	sweep_id         INTEGER NOT NULL REFERENCES sweeps (id),       -- last sweep that detected it
	first_detected   TEXT    NOT NULL,
	last_detected    TEXT    NOT NULL,
	last_evidence_id INTEGER NOT NULL REFERENCES evidence (id)
);
CREATE INDEX hits_sweep ON hits (sweep_id);
CREATE INDEX hits_status ON hits (status);
CREATE INDEX hits_last_detected ON hits (last_detected);

-- hit_evidence links every evidence record that proves a hit.
CREATE TABLE hit_evidence (
	hit_id      INTEGER NOT NULL REFERENCES hits (id),
	evidence_id INTEGER NOT NULL REFERENCES evidence (id),
	sweep_id    INTEGER NOT NULL REFERENCES sweeps (id),
	PRIMARY KEY (hit_id, evidence_id)
);
CREATE INDEX hit_evidence_sweep ON hit_evidence (sweep_id, hit_id);

CREATE TABLE reviews (
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	hit_id INTEGER NOT NULL REFERENCES hits (id),
	status TEXT    NOT NULL CHECK (status IN ('new', 'confirmed', 'false_positive')),
	note   TEXT    NOT NULL DEFAULT '',
	actor  TEXT    NOT NULL,
	at     TEXT    NOT NULL
);
CREATE INDEX reviews_hit ON reviews (hit_id);

-- audit_log is append-only and hash-chained; see AuditHash for the formula.
-- AUTOINCREMENT keeps ids from being reused, so sqlite_sequence also reveals
-- rows cut from the end of the chain.
CREATE TABLE audit_log (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	at        TEXT    NOT NULL,
	actor     TEXT    NOT NULL,
	action    TEXT    NOT NULL,
	details   TEXT    NOT NULL,                      -- compact JSON, hashed as stored
	prev_hash TEXT    NOT NULL,
	hash      TEXT    NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
