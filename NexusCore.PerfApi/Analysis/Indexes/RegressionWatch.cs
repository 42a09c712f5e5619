using Npgsql;

namespace NexusCore.PerfApi.Analysis.Indexes;

/// <summary>A statement that got slower: its current window against the baseline before it, and the likely causes seen.</summary>
/// <param name="Causes">What changed that can explain it (an index dropped or added on its tables, the cache hit rate, rows per call); empty when none is visible.</param>
/// <param name="Recommendation">What to do: the statement that re-creates a dropped index, or where to look.</param>
public sealed record StatementRegression(
    string Query,
    long BaselineCalls,
    double BaselineMeanMs,
    long CurrentCalls,
    double CurrentMeanMs,
    double ChangePercent,
    double BaselineSeconds,
    double CurrentSeconds,
    IReadOnlyList<string> Causes,
    string Recommendation);

/// <summary>
/// Watches the application's statements for regressions: snapshots of pg_stat_statements (the application roles'
/// rows, at most <see cref="MaxStatements"/>, cumulative calls, time, rows and buffer hits) and of each user table's
/// indexes, taken with the usage snapshots (<see cref="IndexAdvisorOptions.UsageSnapshotInterval"/>) and kept for
/// <see cref="IndexAdvisorOptions.RegressionWindow"/> + <see cref="IndexAdvisorOptions.RegressionBaseline"/>. A statement
/// whose mean over the current window exceeds its baseline's by <see cref="IndexAdvisorOptions.RegressionThresholdPercent"/>,
/// with <see cref="IndexAdvisorOptions.RegressionMinCalls"/> executions in each, is a regression. Also gives each
/// statement's executions per hour of current traffic (for ranking advice). Texts are only read and compared, never planned.
/// </summary>
public sealed class RegressionWatch(NpgsqlDataSource db, TimeProvider time)
{
    public const int MaxStatements = 2000;

    private readonly Lock _gate = new();
    private readonly List<Snapshot> _snapshots = [];

    private sealed record Counters(long Calls, double TotalMs, long Rows, long Hit, long Read);

    /// <param name="Indexes">Per table name: its indexes' names and definitions.</param>
    private sealed record Snapshot(DateTimeOffset At, Dictionary<string, Counters> Statements, Dictionary<string, Dictionary<string, string>> Indexes);

    public async Task SnapshotAsync(IndexAdvisorOptions options, CancellationToken ct)
    {
        var snapshot = await ReadAsync(options, ct);
        lock (_gate)
        {
            _snapshots.Add(snapshot);
            var keep = snapshot.At - options.RegressionWindow - options.RegressionBaseline - options.UsageSnapshotInterval;
            // Keep the newest snapshot at or before the oldest start a window may need.
            while (_snapshots.Count > 2 && _snapshots[1].At <= keep)
            {
                _snapshots.RemoveAt(0);
            }
        }
    }

    /// <summary>Executions per hour of each statement over the last hour watched (or as long as watched); empty before two snapshots.</summary>
    public IReadOnlyDictionary<string, double> CallsPerHour()
    {
        lock (_gate)
        {
            if (_snapshots.Count < 2)
            {
                return new Dictionary<string, double>();
            }

            var last = _snapshots[^1];
            var first = _snapshots.LastOrDefault(s => s.At <= last.At - TimeSpan.FromHours(1)) ?? _snapshots[0];
            var hours = (last.At - first.At).TotalHours;
            var rates = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var (query, now) in last.Statements)
            {
                var before = first.Statements.GetValueOrDefault(query);
                if (before is null || now.Calls >= before.Calls)
                {
                    rates[query] = (now.Calls - (before?.Calls ?? 0)) / hours;
                }
            }

            return rates;
        }
    }

    /// <summary>
    /// The regressions now: a fresh reading is the current window's end (not kept: only the periodic snapshots are,
    /// so their number stays bounded by the windows over the interval however often this is asked).
    /// </summary>
    public async Task<IReadOnlyList<StatementRegression>> EvaluateAsync(IndexAdvisorOptions options, CancellationToken ct)
    {
        var end = await ReadAsync(options, ct);
        Snapshot start, middle;
        lock (_gate)
        {
            var middleAt = end.At - options.RegressionWindow;
            var middleFound = _snapshots.LastOrDefault(s => s.At <= middleAt);
            if (middleFound is null || middleFound == _snapshots[0] || middleFound.At >= end.At)
            {
                return [];
            }

            middle = middleFound;
            start = _snapshots.LastOrDefault(s => s.At <= middle.At - options.RegressionBaseline) ?? _snapshots[0];
        }

        var regressions = new List<StatementRegression>();
        foreach (var (query, now) in end.Statements)
        {
            // A statement that first ran within the baseline counts from zero there.
            var first = start.Statements.GetValueOrDefault(query) ?? new Counters(0, 0, 0, 0, 0);
            if (middle.Statements.GetValueOrDefault(query) is not { } mid || now.Calls < mid.Calls || mid.Calls < first.Calls)
            {
                continue;
            }

            var current = Delta(now, mid);
            var baseline = Delta(mid, first);
            if (current.Calls < options.RegressionMinCalls || baseline.Calls < options.RegressionMinCalls || baseline.TotalMs <= 0)
            {
                continue;
            }

            var currentMean = current.TotalMs / current.Calls;
            var baselineMean = baseline.TotalMs / baseline.Calls;
            var change = (currentMean - baselineMean) / baselineMean * 100;
            if (change <= options.RegressionThresholdPercent)
            {
                continue;
            }

            var (causes, recommendation) = Causes(query, current, baseline, middle, end);
            regressions.Add(new StatementRegression(
                query, baseline.Calls, Math.Round(baselineMean, 3), current.Calls, Math.Round(currentMean, 3), IndexAnalyzer.Round(change),
                Math.Round((middle.At - start.At).TotalSeconds, 1), Math.Round((end.At - middle.At).TotalSeconds, 1), causes, recommendation));
        }

        return regressions.OrderByDescending(r => (r.CurrentMeanMs - r.BaselineMeanMs) * r.CurrentCalls).ToList();
    }

    private static Counters Delta(Counters now, Counters then) =>
        new(now.Calls - then.Calls, now.TotalMs - then.TotalMs, now.Rows - then.Rows, now.Hit - then.Hit, now.Read - then.Read);

    private static (IReadOnlyList<string> Causes, string Recommendation) Causes(string query, Counters current, Counters baseline, Snapshot middle, Snapshot end)
    {
        var causes = new List<string>();
        string? recreate = null;
        var parsed = QueryShapeParser.Parse(query).Statement;
        foreach (var table in parsed?.Tables.Select(t => t.Name).Distinct(StringComparer.Ordinal) ?? [])
        {
            var then = middle.Indexes.GetValueOrDefault(table) ?? [];
            var now = end.Indexes.GetValueOrDefault(table) ?? [];
            foreach (var (name, definition) in then.Where(i => !now.ContainsKey(i.Key)).OrderBy(i => i.Key, StringComparer.Ordinal))
            {
                causes.Add($"index {name} on {table} was dropped ({definition})");
                recreate ??= definition.StartsWith("CREATE INDEX ", StringComparison.Ordinal)
                    ? "CREATE INDEX CONCURRENTLY " + definition["CREATE INDEX ".Length..]
                    : definition;
            }

            foreach (var name in now.Keys.Where(i => !then.ContainsKey(i)).Order(StringComparer.Ordinal))
            {
                causes.Add($"index {name} on {table} was added");
            }
        }

        var hitThen = HitRate(baseline);
        var hitNow = HitRate(current);
        if (hitThen - hitNow >= 10)
        {
            causes.Add($"the cache hit rate fell from {hitThen:0.#} % to {hitNow:0.#} %");
        }

        var rowsThen = (double)baseline.Rows / baseline.Calls;
        var rowsNow = (double)current.Rows / current.Calls;
        if (rowsNow > rowsThen * 1.5 && rowsNow - rowsThen >= 1)
        {
            causes.Add($"rows per call grew from {rowsThen:0.#} to {rowsNow:0.#}");
        }

        var recommendation = recreate is not null
            ? $"re-create the dropped index: {recreate}"
            : causes.Count > 0
                ? "look at what changed: " + string.Join("; ", causes)
                : "no cause visible in the statistics: compare its plan now with before (EXPLAIN) and look at the table's recent changes";
        return (causes, recommendation);
    }

    private static double HitRate(Counters counters) =>
        counters.Hit + counters.Read == 0 ? 100 : counters.Hit * 100.0 / (counters.Hit + counters.Read);

    private async Task<Snapshot> ReadAsync(IndexAdvisorOptions options, CancellationToken ct)
    {
        var statements = new Dictionary<string, Counters>(StringComparer.Ordinal);
        var indexes = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        await using var batch = db.CreateBatch();
        var statementsCommand = new NpgsqlBatchCommand("""
            SELECT s.query, sum(s.calls)::bigint, sum(s.total_exec_time)::float8, sum(s.rows)::bigint,
                   sum(s.shared_blks_hit)::bigint, sum(s.shared_blks_read)::bigint
            FROM pg_stat_statements s
            WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND s.userid IN (SELECT r.oid FROM pg_roles r WHERE r.rolname = ANY($1))
            GROUP BY s.query
            ORDER BY sum(s.total_exec_time) DESC
            LIMIT $2
            """);
        statementsCommand.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = options.Roles.ToArray() });
        statementsCommand.Parameters.Add(new NpgsqlParameter<int> { TypedValue = MaxStatements });
        batch.BatchCommands.Add(statementsCommand);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            SELECT s.relname, s.indexrelname, pg_get_indexdef(s.indexrelid)
            FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
            WHERE i.indisvalid
            """));
        try
        {
            await using var reader = await batch.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                statements[reader.GetString(0)] = new Counters(reader.GetInt64(1), reader.GetDouble(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5));
            }

            await reader.NextResultAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var table = reader.GetString(0);
                if (!indexes.TryGetValue(table, out var byName))
                {
                    indexes[table] = byName = new Dictionary<string, string>(StringComparer.Ordinal);
                }

                byName[reader.GetString(1)] = reader.GetString(2);
            }
        }
        catch (PostgresException)
        {
            // pg_stat_statements unreadable: an empty snapshot, so nothing is called a regression.
        }

        return new Snapshot(time.GetUtcNow(), statements, indexes);
    }
}
