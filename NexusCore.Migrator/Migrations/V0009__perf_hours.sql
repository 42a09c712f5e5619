-- PerfApi's hourly roll-ups: a closed hour's minutes of perf.query_minutes merged into one row per key, so that a
-- 24h or 7d window reads hours (a week of 40 series: 6,720 rows) instead of minutes (403,200 rows).
-- The columns of perf.query_minutes, with the hour (a UTC clock hour) in place of the minute and the bucket counts
-- packed (below). PerfApi's compactor
-- moves an hour's minutes here in one transaction (DELETE ... RETURNING of the minutes, COPY of the merged rows), so
-- every query is in exactly one of the two tables at any snapshot and a pass cut short rolls back whole. Rows are
-- additive, as minutes are: minutes that reach an hour after it was compacted (rare: a write retried after Postgres
-- was away) become a second row for the same key and hour, and the reader merges them.
CREATE TABLE perf.query_hours (
    hour          timestamptz      NOT NULL,
    service       text             NOT NULL,
    table_name    text             NOT NULL,
    operation     text             NOT NULL,
    query_type    text             NOT NULL,
    cache_hit     boolean,                      -- null: the query has no cache outcome (writes)
    count         bigint           NOT NULL CHECK (count >= 0),
    sum           double precision NOT NULL,
    min           double precision,             -- null when unknown (no finite value was reported)
    max           double precision,
    errors        bigint           NOT NULL CHECK (errors >= 0),
    scale         smallint         NOT NULL,
    zero_count    bigint           NOT NULL CHECK (zero_count >= 0),
    bucket_offset integer          NOT NULL,
    -- The counts from bucket_offset on, each an unsigned LEB128 varint: a few hundred bytes for a 320-bucket hour
    -- where bigint[] takes 2.5 KB (TOASTed), and sent as stored, where an array is serialized element by element
    -- (measured: most of a week's read).
    bucket_counts bytea            NOT NULL,
    -- A UTC clock hour whatever the session's time zone (date_trunc would follow it).
    CHECK (hour = date_bin('1 hour', hour, TIMESTAMPTZ '2000-01-01 00:00:00+00'))
);

-- Windows and retention both select by hour.
CREATE INDEX query_hours_hour ON perf.query_hours (hour);

-- The compactor inserts hour rows and deletes the minutes it merged; retention deletes old hours. No UPDATE: a row is
-- never changed (a late part is a row of its own), and no TRUNCATE.
GRANT SELECT, INSERT, DELETE ON perf.query_hours TO nexuscore_perf_api;
