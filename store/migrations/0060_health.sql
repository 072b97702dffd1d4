-- 0060: marketplace health recorded after every sweep, and every alert
-- delivery attempt (sent or failed) so that failures show on the dashboard.

CREATE TABLE market_health (
	market      TEXT    NOT NULL,
	sweep_id    INTEGER NOT NULL REFERENCES sweeps (id),
	recorded_at TEXT    NOT NULL,
	status      TEXT    NOT NULL CHECK (status = 'ok' OR status = 'warn' OR status = 'bad'),
	report      TEXT    NOT NULL DEFAULT '{}',  -- JSON: counts, field fill rates, problems
	PRIMARY KEY (market, sweep_id)
);

CREATE TABLE alerts (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	sent_at  TEXT    NOT NULL,
	event    TEXT    NOT NULL,                  -- health, new_hits
	market   TEXT    NOT NULL DEFAULT '',
	channel  TEXT    NOT NULL,                  -- webhook URL (no credentials) or smtp:host
	status   TEXT    NOT NULL CHECK (status = 'sent' OR status = 'failed'),
	attempts INTEGER NOT NULL,
	error    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX alerts_sent_at ON alerts (sent_at);
