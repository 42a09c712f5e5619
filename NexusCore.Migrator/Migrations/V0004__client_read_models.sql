-- Indexes: one per query shape the API runs, instead of the seed's ten. Each index costs every
-- write (the batch endpoint is held to half of COPY's rows/s), so each must serve a route:
--   clients_pkey              get, patch, delete, by-ids, keyset tie-breaker
--   ux_clients_email_lower    unique email in any letter case; upsert's conflict target
--   ix_clients_created_at_id  search/list sorted by created_at (the default), created ranges, export order
--   ix_clients_updated_at_id  search sorted by updated_at, updated ranges
--   ix_clients_name_id        search sorted by name (case-insensitive)
--   ix_clients_search_vector  q: whole words (full-text)
--   ix_clients_search_trgm    q: prefix/substring of names and emails (trigram)
-- Dropped: status, program_type and (status, program_type) (three values each: a scan of the
-- created_at index with a filter is faster, and counts come from client_counts), created_at and
-- updated_at alone (replaced by the composite keyset indexes), (status, created_at) (same).
DROP INDEX ix_clients_status;
DROP INDEX ix_clients_program_type;
DROP INDEX ix_clients_status_program_type;
DROP INDEX ix_clients_status_created_at;
DROP INDEX ix_clients_created_at;
DROP INDEX ix_clients_updated_at;

CREATE INDEX ix_clients_created_at_id ON clients (created_at, id);
CREATE INDEX ix_clients_updated_at_id ON clients (updated_at, id);
CREATE INDEX ix_clients_name_id ON clients (lower(name), id);
CREATE INDEX ix_clients_search_trgm ON clients USING gin (lower(name || ' ' || email) gin_trgm_ops);

-- Exact counts per (status, program_type), kept in the same transaction as every write by the
-- statement-level triggers below: the dashboard reads at most nine rows whatever the table's size.
CREATE TABLE client_counts (
    status       text   NOT NULL,
    program_type text   NOT NULL,
    clients      bigint NOT NULL,
    PRIMARY KEY (status, program_type)
);

-- New clients per UTC day of creation, by current status and program type: analytics over any
-- date range read at most 365 × 9 rows per year instead of scanning the clients.
CREATE TABLE client_daily_counts (
    day          date   NOT NULL,
    status       text   NOT NULL,
    program_type text   NOT NULL,
    clients      bigint NOT NULL,
    PRIMARY KEY (day, status, program_type)
);

-- Statement-level triggers with transition tables: a 1,000-row batch or a COPY is counted in one
-- pass. Rows are upserted in key order so that concurrent writers queue on the counter rows in the
-- same order instead of deadlocking.
CREATE FUNCTION clients_count_inserts() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    -- Each inserted row adds one client to its group.
    WITH changes AS (
        SELECT status, program_type, (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n
        FROM new_rows GROUP BY 1, 2, 3
    ), totals AS (
        INSERT INTO client_counts AS c (status, program_type, clients)
        SELECT status, program_type, sum(n) FROM changes GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (status, program_type) DO UPDATE SET clients = c.clients + EXCLUDED.clients
    )
    INSERT INTO client_daily_counts AS d (day, status, program_type, clients)
    SELECT day, status, program_type, n FROM changes ORDER BY 1, 2, 3
    ON CONFLICT (day, status, program_type) DO UPDATE SET clients = d.clients + EXCLUDED.clients;
    RETURN NULL;
END;
$$;

CREATE FUNCTION clients_count_deletes() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    -- Each deleted row removes one client from its group.
    WITH changes AS (
        SELECT status, program_type, (created_at AT TIME ZONE 'UTC')::date AS day, -count(*) AS n
        FROM old_rows GROUP BY 1, 2, 3
    ), totals AS (
        INSERT INTO client_counts AS c (status, program_type, clients)
        SELECT status, program_type, sum(n) FROM changes GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (status, program_type) DO UPDATE SET clients = c.clients + EXCLUDED.clients
    )
    INSERT INTO client_daily_counts AS d (day, status, program_type, clients)
    SELECT day, status, program_type, n FROM changes ORDER BY 1, 2, 3
    ON CONFLICT (day, status, program_type) DO UPDATE SET clients = d.clients + EXCLUDED.clients;
    RETURN NULL;
END;
$$;

CREATE FUNCTION clients_count_updates() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    -- An update that changes a status or program type moves the client between groups; others net to zero.
    WITH changes AS (
        SELECT status, program_type, day, sum(n) AS n
        FROM (
            SELECT status, program_type, (created_at AT TIME ZONE 'UTC')::date AS day, 1 AS n FROM new_rows
            UNION ALL
            SELECT status, program_type, (created_at AT TIME ZONE 'UTC')::date, -1 FROM old_rows
        ) moved
        GROUP BY 1, 2, 3
        HAVING sum(n) <> 0
    ), totals AS (
        INSERT INTO client_counts AS c (status, program_type, clients)
        SELECT status, program_type, sum(n) FROM changes GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (status, program_type) DO UPDATE SET clients = c.clients + EXCLUDED.clients
    )
    INSERT INTO client_daily_counts AS d (day, status, program_type, clients)
    SELECT day, status, program_type, n FROM changes ORDER BY 1, 2, 3
    ON CONFLICT (day, status, program_type) DO UPDATE SET clients = d.clients + EXCLUDED.clients;
    RETURN NULL;
END;
$$;

CREATE FUNCTION clients_count_truncate() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    DELETE FROM client_daily_counts;
    DELETE FROM client_counts;
    RETURN NULL;
END;
$$;

CREATE TRIGGER clients_count_inserts AFTER INSERT ON clients
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_count_inserts();
CREATE TRIGGER clients_count_deletes AFTER DELETE ON clients
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_count_deletes();
CREATE TRIGGER clients_count_updates AFTER UPDATE ON clients
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_count_updates();
CREATE TRIGGER clients_count_truncate AFTER TRUNCATE ON clients
    FOR EACH STATEMENT EXECUTE FUNCTION clients_count_truncate();

-- Rows that existed before this migration.
INSERT INTO client_counts (status, program_type, clients)
SELECT status, program_type, count(*) FROM clients GROUP BY 1, 2;

INSERT INTO client_daily_counts (day, status, program_type, clients)
SELECT (created_at AT TIME ZONE 'UTC')::date, status, program_type, count(*) FROM clients GROUP BY 1, 2, 3;
