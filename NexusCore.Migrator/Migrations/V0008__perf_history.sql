-- PerfApi's own data: the minute roll-ups of the nexuscore.query.duration histogram, so that its analytics reach
-- back further than its memory and survive a restart. A schema of its own keeps it apart from the application's
-- tables: PerfApi's role may use this schema and nothing of public (README, Security: Database roles).
CREATE SCHEMA perf;

-- One row per (minute, service, table, operation, query type, cache outcome) and per write: rows are additive,
-- never updated. Two rows of the same key and minute (two flushes, or the part of a minute written before a
-- restart and the part after it) are merged when read, so nothing is lost or counted twice and a write needs no
-- lock, no unique index and no read. Durations are in seconds, as the instrument records them.
-- The histogram is OpenTelemetry's base-2 exponential one: bucket i (from bucket_offset on) holds the values in
-- (2^(2^-scale·i), 2^(2^-scale·(i+1))]; zero_count the values at or below 0.
CREATE TABLE perf.query_minutes (
    minute        timestamptz      NOT NULL,
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
    bucket_counts bigint[]         NOT NULL,
    CHECK (minute = date_trunc('minute', minute))
);

-- Windows and retention both select by minute; rows arrive in minute order, so the index stays append-mostly.
CREATE INDEX query_minutes_minute ON perf.query_minutes (minute);

-- PerfApi writes roll-ups, reads windows and deletes what is older than its retention: nothing else, not even an
-- UPDATE (rows are never changed) or a TRUNCATE (retention deletes in bounded batches).
GRANT USAGE ON SCHEMA perf TO nexuscore_perf_api;
GRANT SELECT, INSERT, DELETE ON perf.query_minutes TO nexuscore_perf_api;
