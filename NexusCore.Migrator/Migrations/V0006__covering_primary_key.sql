-- The primary key carries every column a client is returned with (INCLUDE): a read by id (a client,
-- by-ids) is then an index-only scan, one index leaf page per id instead of a leaf page and a heap
-- page. At 1M clients, 100 random ids took Postgres 309-378 µs per execution with the plain key and
-- 264 µs with this one (pg_stat_statements, 64 rotating lists, one client), and by-ids through
-- ClientsApi served 12-20 % more requests per second at 4 connections.
-- It widens one index instead of adding one: the key grows from ~21 MB to ~130 MB at 1M clients, and
-- an insert of 50,000 clients took the same time (1.10-1.13 s against 1.15-1.21 s). Updates were never
-- HOT (updated_at is indexed), so they already wrote a new key entry. Index-only scans need pages
-- marked all-visible: autovacuum keeps them so, and the seeder vacuums after a load.
-- The widest possible entry (name 200 and email 254 characters of 4 UTF-8 bytes each, ~1.9 kB) fits
-- B-tree's limit of a third of a page (2,704 bytes).
ALTER TABLE clients
    DROP CONSTRAINT clients_pkey,
    ADD CONSTRAINT clients_pkey PRIMARY KEY (id) INCLUDE (name, email, status, program_type, created_at, updated_at, version);
