-- The reference dashboard: counted from the table itself. Active rate is a percentage with two
-- decimals, 0.00 on an empty table.
CREATE OR REPLACE FUNCTION get_client_dashboard_metrics()
RETURNS TABLE (
    total_clients     bigint,
    active_clients    bigint,
    prime_clients     bigint,
    longevity_clients bigint,
    active_rate       numeric(5, 2)
)
LANGUAGE sql
STABLE
AS $$
    SELECT count(*),
           count(*) FILTER (WHERE status = 'active'),
           count(*) FILTER (WHERE program_type = 'PRIME'),
           count(*) FILTER (WHERE program_type = 'LONGEVITY'),
           coalesce(round(100.0 * count(*) FILTER (WHERE status = 'active') / nullif(count(*), 0), 2), 0.00)::numeric(5, 2)
    FROM clients;
$$;
