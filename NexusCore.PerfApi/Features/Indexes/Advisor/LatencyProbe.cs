using Npgsql;
using NexusCore.PerfApi.Telemetry;

namespace NexusCore.PerfApi.Features.Indexes.Advisor;

/// <summary>A statement's cumulative executions and time at one moment.</summary>
public sealed record LatencyReading(long Calls, double TotalMs)
{
    public double? MeanMs => Calls > 0 ? TotalMs / Calls : null;
}

/// <summary>
/// Reads a statement's cumulative calls and total time where the recommendation found it: pg_stat_statements
/// (every execution since the statistics were reset, by exact text) or PerfApi's statement telemetry (every run
/// the spans reported since the statement was first seen, within the store's retention).
/// </summary>
public sealed class LatencyProbe(NpgsqlDataSource db, TelemetryStore store)
{
    public async Task<LatencyReading?> ReadAsync(IndexQueryEvidence query, CancellationToken ct)
    {
        if (query.Source == ObservedStatement.PgStatStatements)
        {
            try
            {
                await using var command = db.CreateCommand("""
                    SELECT coalesce(sum(s.calls), 0)::bigint, coalesce(sum(s.total_exec_time), 0)::float8
                    FROM pg_stat_statements s
                    WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND s.query = $1
                    """);
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = query.Query });
                await using var reader = await command.ExecuteReaderAsync(ct);
                await reader.ReadAsync(ct);
                return new LatencyReading(reader.GetInt64(0), reader.GetDouble(1));
            }
            catch (PostgresException)
            {
                return null;
            }
        }

        // The store clamps the window to its retention: every statement it still holds.
        var stats = store.Statements.List(new StatementQuery(TimeSpan.FromDays(1), Service: query.Service, Limit: int.MaxValue))
            .FirstOrDefault(s => s.Statement == query.Query);
        return stats is null ? null : new LatencyReading(stats.Count, stats.Count * stats.MeanMs);
    }
}
