-- 0051: the frontier's state rule written as comparisons. As
-- "state IN ('queued', ...)" SQLite checked it by building, and dropping, a
-- temporary index of the four states for every row inserted or updated: on
-- every frontier write of a sweep. SQLite cannot change a constraint in
-- place, so the table is rebuilt with its rows, ids and id sequence.

CREATE TABLE frontier_new (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	sweep_id   INTEGER NOT NULL REFERENCES sweeps (id),
	market     TEXT    NOT NULL,
	url        TEXT    NOT NULL,
	depth      INTEGER NOT NULL DEFAULT 0,
	state      TEXT    NOT NULL DEFAULT 'queued'
		CHECK (state = 'queued' OR state = 'claimed' OR state = 'done' OR state = 'failed'),
	attempts   INTEGER NOT NULL DEFAULT 0,
	updated_at TEXT    NOT NULL,
	UNIQUE (sweep_id, market, url)
);
INSERT INTO frontier_new (id, sweep_id, market, url, depth, state, attempts, updated_at)
	SELECT id, sweep_id, market, url, depth, state, attempts, updated_at FROM frontier;
DELETE FROM sqlite_sequence WHERE name = 'frontier_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'frontier_new', seq FROM sqlite_sequence WHERE name = 'frontier';
DROP TABLE frontier;
ALTER TABLE frontier_new RENAME TO frontier;
CREATE INDEX frontier_state ON frontier (sweep_id, market, state, id);
