-- 0130: vendors. Identifiers found in listings (each sighting keeps the
-- evidence record and byte span it came from), vendors (clusters of
-- listings) with their triage status, analysts' merge and split decisions
-- (replayed at every relink, so they survive later sweeps), and the
-- identifiers found to be shared by many unrelated sellers of a
-- marketplace, which link nothing.

CREATE TABLE identifier_sightings (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	listing_id  INTEGER NOT NULL REFERENCES listings (id),
	evidence_id INTEGER NOT NULL REFERENCES evidence (id),
	kind        TEXT    NOT NULL,
	value       TEXT    NOT NULL,
	link_key    TEXT    NOT NULL,                  -- what two sightings must share to link
	source      TEXT    NOT NULL,                  -- title, description, vendor, text, field:NAME or page
	start       INTEGER NOT NULL,                  -- byte span in the source
	end         INTEGER NOT NULL,
	raw         TEXT    NOT NULL,                  -- the text as written
	seen_at     TEXT    NOT NULL,
	UNIQUE (listing_id, evidence_id, source, start, kind)
);
CREATE INDEX identifier_sightings_key ON identifier_sightings (link_key);

-- vendor_state holds the id of the last listing version whose identifiers
-- were extracted.
CREATE TABLE vendor_state (
	id                 INTEGER PRIMARY KEY CHECK (id = 1),
	extracted_through  INTEGER NOT NULL DEFAULT 0,
	linked_at          TEXT    NOT NULL DEFAULT ''
);
INSERT INTO vendor_state (id) VALUES (1);

CREATE TABLE vendors (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	status      TEXT    NOT NULL DEFAULT 'new'
		CHECK (status = 'new' OR status = 'target' OR status = 'monitor' OR status = 'dismissed'),
	note        TEXT    NOT NULL DEFAULT '',
	status_by   TEXT    NOT NULL DEFAULT '',
	status_at   TEXT    NOT NULL DEFAULT '',
	created_at  TEXT    NOT NULL,
	merged_into INTEGER REFERENCES vendors (id)     -- set when a relink or a merge absorbed it
);

CREATE TABLE vendor_listings (
	listing_id INTEGER PRIMARY KEY REFERENCES listings (id),
	vendor_id  INTEGER NOT NULL REFERENCES vendors (id)
);
CREATE INDEX vendor_listings_vendor ON vendor_listings (vendor_id);

-- vendor_decisions are analysts' merges and splits. A merge puts the
-- listings of both sides together; a split keeps side 1 apart from side 0.
-- A later decision supersedes the earlier ones it contradicts.
CREATE TABLE vendor_decisions (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	action        TEXT    NOT NULL CHECK (action = 'merge' OR action = 'split'),
	actor         TEXT    NOT NULL,
	at            TEXT    NOT NULL,
	note          TEXT    NOT NULL DEFAULT '',
	superseded_by INTEGER REFERENCES vendor_decisions (id)
);
CREATE TABLE vendor_decision_listings (
	decision_id INTEGER NOT NULL REFERENCES vendor_decisions (id),
	listing_id  INTEGER NOT NULL REFERENCES listings (id),
	side        INTEGER NOT NULL CHECK (side = 0 OR side = 1),
	PRIMARY KEY (decision_id, listing_id)
);

CREATE TABLE common_identifiers (
	link_key TEXT    NOT NULL,
	market   TEXT    NOT NULL,
	sellers  INTEGER NOT NULL,                     -- distinct sellers of the marketplace showing it
	listings INTEGER NOT NULL,
	PRIMARY KEY (link_key, market)
);
