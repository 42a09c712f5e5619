-- Least privilege: each service's role gets exactly what its statements need. The roles themselves are
-- created by the AppHost's bootstrap (the only use of the superuser, NexusCore.AppHost/Database); this
-- script fails with "role ... does not exist" on a server where they were not. README's Security
-- section lists the result, and a test compares the catalog with that table.

-- Table clients is owned by a NOLOGIN role of its own, so that the index builder (nexuscore_indexer, a
-- member) can run CREATE/DROP INDEX CONCURRENTLY on it and on nothing else: Postgres lets only a
-- table's owner build its indexes, and no function can run a concurrent build. The owner role itself
-- holds no privilege on the rows (an owner's privileges can be revoked from it), and an event trigger
-- (the bootstrap's) refuses any other DDL from the indexer's sessions. The migrator, also a member,
-- keeps altering the table in later migrations and reads and writes it with its own grants.
-- CREATE INDEX also needs CREATE on the table's schema (the index is created there). That would let the
-- owner role create any object in public; the bootstrap's event trigger refuses every DDL command of the
-- indexer's sessions but CREATE INDEX and DROP INDEX, so tables, views and functions stay out of reach.
GRANT CREATE ON SCHEMA public TO nexuscore_clients_owner;
ALTER TABLE clients OWNER TO nexuscore_clients_owner;
REVOKE ALL ON clients FROM nexuscore_clients_owner;
GRANT ALL ON clients TO nexuscore_migrator;

-- ClientsApi: reads, creates, updates and deletes clients, and nothing else. A create names only the
-- four fields a client sends (id, dates and version are the table's), an update only what a PATCH,
-- batch update or upsert sets.
GRANT SELECT, DELETE ON clients TO nexuscore_clients_api;
GRANT INSERT (name, email, status, program_type) ON clients TO nexuscore_clients_api;
GRANT UPDATE (name, email, status, program_type, updated_at, version) ON clients TO nexuscore_clients_api;
-- The counters are kept by the triggers below, never written by the API itself.
GRANT SELECT ON client_counts, client_daily_counts TO nexuscore_clients_api;
-- Batch replays: read and written in the batch's transaction, expired rows deleted by a janitor.
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO nexuscore_clients_api;

-- The counter triggers run as the migrator's role (which owns the counters), so a writer of clients
-- needs no privilege on them: ClientsApi can read the counts but cannot set them. A fixed search_path,
-- as every SECURITY DEFINER function needs.
ALTER FUNCTION clients_count_inserts() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION clients_count_deletes() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION clients_count_updates() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION clients_count_truncate() SECURITY DEFINER SET search_path = public, pg_temp;

-- Functions are executable by every role unless revoked: ours by nobody but their owner (the
-- dashboard reference is for tests; the trigger functions are only ever called as triggers).
REVOKE EXECUTE ON FUNCTION clients_count_inserts(), clients_count_deletes(), clients_count_updates(),
    clients_count_truncate(), get_client_dashboard_metrics() FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- The index advisor plans the statements the application runs (from pg_stat_statements, never from
-- telemetry) in read-only sessions: it reads the application's tables, nothing else.
GRANT SELECT ON clients, client_counts, client_daily_counts, idempotency_keys TO nexuscore_advisor;

-- PerfApi (nexuscore_perf_api) gets nothing here: it reads statistics through pg_monitor, never rows.
