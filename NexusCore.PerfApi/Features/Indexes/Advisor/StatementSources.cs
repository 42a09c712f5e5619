using Npgsql;
using NexusCore.PerfApi.Features.SlowQueries;
using NexusCore.PerfApi.Telemetry;

namespace NexusCore.PerfApi.Features.Indexes.Advisor;

/// <summary>A statement the application runs, as one of the sources saw it.</summary>
/// <param name="Query">As the source shows it (pg_stat_statements' text, or the telemetry's normalized text).</param>
/// <param name="Plannable">The same with every literal a parameter, ready for PREPARE; null when it cannot be made so.</param>
public sealed record ObservedStatement(string Query, string? Plannable, string Source, string? Service, long Calls, double MeanMs)
{
    public const string PgStatStatements = "pg_stat_statements";
    public const string Telemetry = "telemetry";

    public double TotalMs => Calls * MeanMs;
}

/// <summary>The statements to analyse, and why pg_stat_statements could not be read when it could not.</summary>
public sealed record ObservedStatements(IReadOnlyList<ObservedStatement> Statements, string? PgStatStatementsUnavailable);

/// <summary>
/// The slow and frequent statements: from <c>pg_stat_statements</c> (every client of the database, parameters as
/// <c>$n</c>) and from PerfApi's statement telemetry (what the services' spans carried, for statements that
/// pg_stat_statements does not have). Busiest by total time first; only SELECT, UPDATE, DELETE and WITH.
/// </summary>
internal static class StatementSources
{
    public static async Task<ObservedStatements> ReadAsync(
        NpgsqlDataSource db, TelemetryStore store, IndexAdvisorOptions options, TimeSpan slowThreshold, CancellationToken ct)
    {
        var slowMs = slowThreshold.TotalMilliseconds;
        var (pgStat, unavailable) = await ReadPgStatStatementsAsync(db, options, slowMs, ct);
        var seen = new HashSet<string>(pgStat.Select(s => StatementMatcher.Key(s.Query)), StringComparer.Ordinal);
        var all = new List<ObservedStatement>(pgStat);

        foreach (var statement in store.Statements.List(new StatementQuery(options.TelemetryWindow, Limit: int.MaxValue)))
        {
            if (statement.Statement.EndsWith('…')
                || statement.Verb is not ("SELECT" or "UPDATE" or "DELETE")
                || statement.WindowMeanMs < options.MinMeanMs
                || (statement.WindowCount < options.MinCalls && statement.WindowMaxMs < slowMs))
            {
                continue;
            }

            var keys = StatementMatcher.Keys(statement.Statement);
            if (keys.Count != 1 || !seen.Add(keys[0]))
            {
                continue;
            }

            all.Add(new ObservedStatement(
                statement.Statement, QueryShapeParser.NumberPlaceholders(statement.Statement), ObservedStatement.Telemetry,
                statement.Service, statement.WindowCount, statement.WindowMeanMs));
        }

        var busiest = all.OrderByDescending(s => s.TotalMs).Take(options.MaxStatements).ToList();
        return new ObservedStatements(busiest, unavailable);
    }

    private static async Task<(IReadOnlyList<ObservedStatement> Rows, string? Unavailable)> ReadPgStatStatementsAsync(
        NpgsqlDataSource db, IndexAdvisorOptions options, double slowMs, CancellationToken ct)
    {
        try
        {
            // Rows of several users (or of several query ids for one text) are added up per text.
            await using var command = db.CreateCommand("""
                SELECT s.query, sum(s.calls)::bigint, sum(s.total_exec_time)::float8
                FROM pg_stat_statements s
                WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND s.query ~* '^[[:space:](]*(select|with|update|delete)[^[:alnum:]_]'
                GROUP BY s.query
                HAVING sum(s.calls) > 0
                   AND sum(s.total_exec_time) / sum(s.calls) >= $1
                   AND (sum(s.calls) >= $2 OR sum(s.total_exec_time) / sum(s.calls) >= $3)
                ORDER BY sum(s.total_exec_time) DESC
                LIMIT $4
                """);
            command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = options.MinMeanMs });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = options.MinCalls });
            command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = slowMs });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = options.MaxStatements });
            var rows = new List<ObservedStatement>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var calls = reader.GetInt64(1);
                var query = reader.GetString(0);
                rows.Add(new ObservedStatement(query, query, ObservedStatement.PgStatStatements, null, calls, reader.GetDouble(2) / calls));
            }

            return (rows, null);
        }
        catch (PostgresException ex)
        {
            // Missing (a managed database without it), not preloaded, or not readable: the telemetry still counts.
            return ([], $"pg_stat_statements could not be read: {ex.MessageText}");
        }
    }
}
