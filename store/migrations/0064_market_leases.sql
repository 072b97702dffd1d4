-- 0064: one sweep at a time per marketplace, across processes and hosts. A
-- running sweep holds a lease on each of its marketplaces and renews it
-- while it runs; a lease whose holder stopped renewing it (killed, host
-- down) ends at expires_at, so a dead sweep never blocks the next one for
-- long.
CREATE TABLE market_leases (
	market      TEXT    PRIMARY KEY,
	holder      TEXT    NOT NULL,    -- random token of the holding run
	sweep_id    INTEGER,             -- the sweep, once it has begun
	pid         INTEGER NOT NULL,
	host        TEXT    NOT NULL,
	acquired_at TEXT    NOT NULL,
	renewed_at  TEXT    NOT NULL,
	expires_at  TEXT    NOT NULL
);
CREATE INDEX market_leases_holder ON market_leases (holder);
