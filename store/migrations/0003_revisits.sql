-- 0003: revisits and screenshots.
--
-- payload_sha256 is the hex SHA-256 of a response's payload (the entity
-- body: chunked framing removed, content coding kept; the value of the WARC
-- record's WARC-Payload-Digest). Rows stored before this migration have ''
-- and get it computed when needed. A revisit row (revisit = 1) holds only
-- the status line and headers of a response whose payload was identical to
-- the one of evidence refers_to, the latest non-revisit capture of the same
-- URL; its payload_sha256 is the original's.
ALTER TABLE evidence ADD COLUMN payload_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE evidence ADD COLUMN revisit INTEGER NOT NULL DEFAULT 0 CHECK (revisit IN (0, 1));
ALTER TABLE evidence ADD COLUMN refers_to INTEGER REFERENCES evidence (id);
CREATE INDEX evidence_url_original ON evidence (url, method, id) WHERE revisit = 0;

-- screenshots holds full-page PNGs of hit pages; the latest per hit is
-- shown and exported.
CREATE TABLE screenshots (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	hit_id      INTEGER NOT NULL REFERENCES hits (id),
	evidence_id INTEGER REFERENCES evidence (id),   -- the capture rendered, if known
	url         TEXT    NOT NULL,
	taken_at    TEXT    NOT NULL,
	png         BLOB    NOT NULL,
	sha256      TEXT    NOT NULL CHECK (length(sha256) = 64)
);
CREATE INDEX screenshots_hit ON screenshots (hit_id, taken_at, id);
