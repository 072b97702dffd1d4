-- 0061: sites linked from hit pages that are not configured marketplaces.

CREATE TABLE discovered (
	site        TEXT    PRIMARY KEY,             -- registrable domain, .onion host, or t.me/CHANNEL
	start_url   TEXT    NOT NULL,                -- what a marketplace for it would start from
	market      TEXT    NOT NULL,                -- the marketplace where it was first seen
	source_url  TEXT    NOT NULL,                -- the hit page that linked it first
	first_seen  TEXT    NOT NULL,
	last_seen   TEXT    NOT NULL,
	sightings   INTEGER NOT NULL DEFAULT 1,      -- hit pages that linked it
	status      TEXT    NOT NULL DEFAULT 'new' CHECK (status = 'new' OR status = 'added' OR status = 'dismissed')
);
