-- Query statistics for PerfApi. The library must also be preloaded (shared_preload_libraries),
-- which both AppHost modes do; creating the extension does not need it, reading the view does.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
