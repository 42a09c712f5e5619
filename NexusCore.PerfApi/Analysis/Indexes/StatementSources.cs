using NexusCore.PerfApi.Features.SlowQueries;
using NexusCore.PerfApi.Sql;
using NexusCore.PerfApi.Store;
using Npgsql;

namespace NexusCore.PerfApi.Analysis.Indexes;

/// <summary>What PerfApi's telemetry adds to a pg_stat_statements row it matches: who ran it, how often and how long.</summary>
/// <param name="Services">The services whose spans carried it (busiest first, at most <see cref="StatementSources.MaxServices"/>).</param>
/// <param name="Calls">Their runs within <see cref="IndexAdvisorOptions.TelemetryWindow"/>.</param>
/// <param name="MeanMs">The mean duration of those runs as the services measured them.</param>
public sealed record TelemetryEvidence(IReadOnlyList<string> Services, long Calls, double MeanMs);

/// <summary>A statement an application role ran, as pg_stat_statements shows it (parameters as <c>$n</c>).</summary>
/// <param name="Telemetry">The telemetry that matched it, if any; it never changes <see cref="Query"/>.</param>
public sealed record ObservedStatement(string Query, long Calls, double MeanMs, TelemetryEvidence? Telemetry)
{
    public const string PgStatStatements = "pg_stat_statements";

    /// <summary>Where the statement and its figures come from: always pg_stat_statements.</summary>
    public string Source => PgStatStatements;

    public double TotalMs => Calls * MeanMs;
}

/// <summary>
/// The statements to analyse, why pg_stat_statements could not be read when it could not, and how many statements
/// the telemetry saw that match none of them.
/// </summary>
public sealed record ObservedStatements(IReadOnlyList<ObservedStatement> Statements, string? PgStatStatementsUnavailable, int TelemetryUnmatched);

/// <summary>
/// The slow and frequent statements the application's own roles ran (<c>pg_stat_statements</c> rows whose
/// <c>userid</c> is one of <see cref="IndexAdvisorOptions.ApplicationRoles"/>), busiest by total time first; only
/// SELECT, UPDATE, DELETE and WITH. This is the trust boundary of the advisor: a statement text PerfApi received
/// in telemetry (anyone with the ingest key chooses it) is never planned, prepared or executed. It is only
/// compared, by its match key (<see cref="StatementMatcher"/>), with these rows: a match adds its services, calls
/// and latency to the row as evidence; a statement that matches none is only counted.
/// </summary>
internal static class StatementSources
{
    public const int MaxServices = 10;

    public static async Task<ObservedStatements> ReadAsync(
        NpgsqlDataSource db, TelemetryStore store, IndexAdvisorOptions options, TimeSpan slowThreshold, CancellationToken ct)
    {
        var (rows, unavailable) = await ReadPgStatStatementsAsync(db, options, slowThreshold.TotalMilliseconds, ct);
        var byKey = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < rows.Count; i++)
        {
            // Two texts with one key (rare: they differ only in a list's length) leave the key to the busier row.
            byKey.TryAdd(StatementMatcher.Key(rows[i].Query), i);
        }

        var matched = new List<StatementStats>[rows.Count];
        var unmatched = 0;
        foreach (var seen in store.Statements.List(new StatementQuery(options.TelemetryWindow, Limit: int.MaxValue)))
        {
            if (seen.Verb is not ("SELECT" or "UPDATE" or "DELETE") || seen.WindowCount <= 0)
            {
                continue;
            }

            var keys = StatementMatcher.Keys(seen.Statement);
            var row = keys.Count == 1 ? Find(byKey, keys[0]) : null;
            if (row is { } index)
            {
                (matched[index] ??= []).Add(seen);
            }
            else
            {
                unmatched++;
            }
        }

        var statements = rows.Select((row, i) => matched[i] is { } seen ? row with { Telemetry = Evidence(seen) } : row).ToList();
        return new ObservedStatements(statements, unavailable, unmatched);
    }

    /// <summary>The row whose key is <paramref name="seenKey"/>; a statement the store cut short matches only when one row starts with it.</summary>
    private static int? Find(Dictionary<string, int> byKey, string seenKey)
    {
        if (!seenKey.EndsWith('…'))
        {
            return byKey.TryGetValue(seenKey, out var index) ? index : null;
        }

        var candidates = byKey.Where(k => StatementMatcher.Matches(seenKey, k.Key)).Take(2).ToList();
        return candidates.Count == 1 ? candidates[0].Value : null;
    }

    private static TelemetryEvidence Evidence(List<StatementStats> seen)
    {
        var calls = seen.Sum(s => s.WindowCount);
        var totalMs = seen.Sum(s => s.WindowCount * s.WindowMeanMs);
        var services = seen.GroupBy(s => s.Service, StringComparer.Ordinal)
            .OrderByDescending(g => g.Sum(s => s.WindowCount))
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .Take(MaxServices)
            .Select(g => g.Key)
            .ToList();
        return new TelemetryEvidence(services, calls, IndexAnalyzer.Round(totalMs / calls));
    }

    private static async Task<(IReadOnlyList<ObservedStatement> Rows, string? Unavailable)> ReadPgStatStatementsAsync(
        NpgsqlDataSource db, IndexAdvisorOptions options, double slowMs, CancellationToken ct)
    {
        try
        {
            // Only the application's roles: another login's statements are never planned. A role that does not
            // exist matches nothing. Rows of several of them (or several query ids for one text) add up per text.
            await using var command = db.CreateCommand("""
                SELECT s.query, sum(s.calls)::bigint, sum(s.total_exec_time)::float8
                FROM pg_stat_statements s
                WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND s.userid IN (SELECT r.oid FROM pg_roles r WHERE r.rolname = ANY($5))
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
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = options.Roles.ToArray() });
            var rows = new List<ObservedStatement>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var calls = reader.GetInt64(1);
                rows.Add(new ObservedStatement(reader.GetString(0), calls, reader.GetDouble(2) / calls, null));
            }

            return (rows, null);
        }
        catch (PostgresException ex)
        {
            // Missing (a managed database without it), not preloaded, or not readable by PerfApi's role.
            return ([], $"pg_stat_statements could not be read ({AdvisorErrors.Describe(ex)}); no statement is analysed");
        }
    }
}
