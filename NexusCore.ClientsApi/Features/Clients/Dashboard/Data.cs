using Npgsql;

namespace NexusCore.ClientsApi.Features.Clients.Dashboard;

internal static class Data
{
    // client_counts holds at most one row per (status, program_type), kept exact by triggers in
    // every writing transaction; get_client_dashboard_metrics() computes the same from the table.
    private const string Sql = """
        WITH totals AS (
            SELECT coalesce(sum(clients), 0)::bigint AS total,
                   coalesce(sum(clients) FILTER (WHERE status = 'active'), 0)::bigint AS active,
                   coalesce(sum(clients) FILTER (WHERE program_type = 'PRIME'), 0)::bigint AS prime,
                   coalesce(sum(clients) FILTER (WHERE program_type = 'LONGEVITY'), 0)::bigint AS longevity
            FROM client_counts
        )
        SELECT total, active, prime, longevity,
               coalesce(round(100.0 * active / nullif(total, 0), 2), 0.00)::numeric(5, 2)
        FROM totals
        """;

    public static async Task<Response> ReadAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var command = db.CreateCommand(Sql);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new Response(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetDecimal(4));
    }
}
