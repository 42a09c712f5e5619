namespace NexusCore.Bench.Scenarios;

/// <summary>
/// The seed's starting point, rebuilt beside the product's table: <c>bench_before.clients</c> holds the
/// same rows with the V0001 index set (the primary key and the eight secondary indexes of
/// V0001__clients.sql, one of them the GIN full-text index) and no counter tables or triggers, and
/// <c>bench_before.get_client_dashboard_metrics()</c> is the reference aggregate over it.
/// </summary>
public static class BeforeSchema
{
    public const string Table = "bench_before.clients";

    public static readonly string[] Statements =
    [
        "DROP SCHEMA IF EXISTS bench_before CASCADE",
        "CREATE SCHEMA bench_before",
        // Columns, defaults, identity, checks and the generated search_vector; indexes come below.
        "CREATE TABLE bench_before.clients (LIKE public.clients INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED INCLUDING CONSTRAINTS)",
        """
        INSERT INTO bench_before.clients (id, name, email, status, program_type, created_at, updated_at, version)
        OVERRIDING SYSTEM VALUE
        SELECT id, name, email, status, program_type, created_at, updated_at, version FROM public.clients
        """,
        "SELECT setval(pg_get_serial_sequence('bench_before.clients', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM bench_before.clients), false)",
        // V0001__clients.sql, verbatim but for the schema.
        "ALTER TABLE bench_before.clients ADD PRIMARY KEY (id)",
        "CREATE UNIQUE INDEX ON bench_before.clients (lower(email))",
        "CREATE INDEX ON bench_before.clients (status)",
        "CREATE INDEX ON bench_before.clients (program_type)",
        "CREATE INDEX ON bench_before.clients (created_at)",
        "CREATE INDEX ON bench_before.clients (updated_at)",
        "CREATE INDEX ON bench_before.clients (status, program_type)",
        "CREATE INDEX ON bench_before.clients (status, created_at)",
        "CREATE INDEX ON bench_before.clients USING gin (search_vector)",
        """
        CREATE FUNCTION bench_before.get_client_dashboard_metrics()
        RETURNS TABLE (total_clients bigint, active_clients bigint, prime_clients bigint, longevity_clients bigint, active_rate numeric(5, 2))
        LANGUAGE sql STABLE
        AS $$
            SELECT count(*),
                   count(*) FILTER (WHERE status = 'active'),
                   count(*) FILTER (WHERE program_type = 'PRIME'),
                   count(*) FILTER (WHERE program_type = 'LONGEVITY'),
                   coalesce(round(100.0 * count(*) FILTER (WHERE status = 'active') / nullif(count(*), 0), 2), 0.00)::numeric(5, 2)
            FROM bench_before.clients;
        $$
        """,
        "VACUUM (ANALYZE) bench_before.clients",
    ];
}
