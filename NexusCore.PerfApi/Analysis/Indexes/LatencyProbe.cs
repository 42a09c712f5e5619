using Npgsql;

namespace NexusCore.PerfApi.Analysis.Indexes;

/// <summary>A statement's cumulative executions and time at one moment.</summary>
public sealed record LatencyReading(long Calls, double TotalMs)
{
    public double? MeanMs => Calls > 0 ? TotalMs / Calls : null;
}

/// <summary>
/// Reads a statement's cumulative calls and total time from pg_stat_statements (every execution by the
/// application's roles since the statistics were reset, by exact text), where the recommendation found it.
/// </summary>
public sealed class LatencyProbe(NpgsqlDataSource db, Microsoft.Extensions.Options.IOptionsMonitor<IndexAdvisorOptions> options)
{
    public async Task<LatencyReading?> ReadAsync(IndexQueryEvidence query, CancellationToken ct)
    {
        try
        {
            await using var command = db.CreateCommand("""
                SELECT coalesce(sum(s.calls), 0)::bigint, coalesce(sum(s.total_exec_time), 0)::float8
                FROM pg_stat_statements s
                WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND s.query = $1
                  AND s.userid IN (SELECT r.oid FROM pg_roles r WHERE r.rolname = ANY($2))
                """);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = query.Query });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = options.CurrentValue.Roles.ToArray() });
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            return new LatencyReading(reader.GetInt64(0), reader.GetDouble(1));
        }
        catch (PostgresException)
        {
            return null;
        }
    }
}
