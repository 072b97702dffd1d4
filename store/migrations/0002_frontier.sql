-- 0002: the crawl frontier, so an interrupted sweep resumes where it stopped.
-- A URL moves queued -> claimed (handed to the crawler) -> done | failed;
-- claimed rows left by a crash are put back to queued on resume.

CREATE TABLE frontier (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	sweep_id   INTEGER NOT NULL REFERENCES sweeps (id),
	market     TEXT    NOT NULL,
	url        TEXT    NOT NULL,
	depth      INTEGER NOT NULL DEFAULT 0,
	state      TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'claimed', 'done', 'failed')),
	attempts   INTEGER NOT NULL DEFAULT 0,
	updated_at TEXT    NOT NULL,
	UNIQUE (sweep_id, market, url)
);
CREATE INDEX frontier_state ON frontier (sweep_id, market, state, id);
