using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Store;
using NexusCore.PerfApi.Store.History;
using Npgsql;

namespace NexusCore.PerfApi.Tests.Store.History;

/// <summary>Roll-ups given by the test: what the in-memory store would hand the writer.</summary>
internal sealed class ListSource(IEnumerable<MinuteRollup> rollups) : IQueryRollupSource
{
    private readonly List<MinuteRollup> _rollups = rollups.ToList();

    public IReadOnlyList<MinuteRollup> Rollups(DateTimeOffset from, DateTimeOffset to) =>
        _rollups.Where(r => r.Minute >= from && r.Minute < to).ToList();
}

internal static class HistoryFixtures
{
    /// <summary>A test's own service name: its rows are its own in the shared table.</summary>
    public static string Service(string what) => $"history-{what}-{Guid.NewGuid().ToString("N")[..8]}";

    public static DateTimeOffset Minute(TimeSpan ago) => HistoryWriter.MinuteOf(DateTimeOffset.UtcNow - ago);

    /// <summary>
    /// <paramref name="n"/> durations in seconds, log-normal around 5 ms (0.2 ms – 0.5 s), from a fixed seed: a latency
    /// shape with a long tail, the same on every run.
    /// </summary>
    public static double[] Durations(int seed, int n)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ =>
        {
            var normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            return Math.Clamp(0.005 * Math.Exp(normal * 1.2), 0.0002, 0.5);
        }).ToArray();
    }

    public static ExponentialHistogram Histogram(IEnumerable<double> seconds, int scale = ExponentialHistogram.MaxScale)
    {
        var histogram = new ExponentialHistogram(scale);
        foreach (var value in seconds)
        {
            histogram.Record(value);
        }

        return histogram;
    }

    public static double NearestRank(IReadOnlyList<double> sorted, double q) => sorted[Math.Max(1, (int)Math.Ceiling(q * sorted.Count)) - 1];

    /// <summary>Asserts <paramref name="actual"/> is within the histogram's stated error of the exact value.</summary>
    public static void AssertWithin(double expected, double? actual, double relativeError)
    {
        Assert.NotNull(actual);
        Assert.True(Math.Abs(actual.Value - expected) <= expected * relativeError + 1e-12,
            $"expected {expected} within {relativeError:P2}, got {actual}");
    }

    /// <summary>A data source as PerfApi's own role: what the writer, reader and retention run as.</summary>
    public static async Task<NpgsqlDataSource> PerfApiRoleAsync(StackFixture stack) =>
        NpgsqlDataSource.Create(await stack.ConnectionStringAsync("clientsdb-perf-api"));

    public static HistoryCompactor Compactor(NpgsqlDataSource db, HistoryCounters counters, HistoryOptions? options = null, TimeProvider? time = null) =>
        new(db, Options.Create(options ?? new HistoryOptions()), counters, time ?? TimeProvider.System, NullLogger<HistoryCompactor>.Instance);

    public static DateTimeOffset Hour(TimeSpan ago) => HistoryCompactor.HourOf(DateTimeOffset.UtcNow - ago);

    /// <summary>Rows of <paramref name="service"/> in perf.query_hours, whole, read as the superuser (not through the code under test).</summary>
    public static async Task<List<(DateTimeOffset Hour, RollupKey Key, ExponentialHistogram Durations, long Errors)>> HourRowsAsync(StackFixture stack, string service)
    {
        await using var command = stack.ClientsDb.CreateCommand("""
            SELECT hour, service, table_name, operation, query_type, cache_hit, count, sum, min, max, errors, scale, zero_count, bucket_offset, bucket_counts
            FROM perf.query_hours WHERE service = $1 ORDER BY hour, query_type, cache_hit
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = service });
        var rows = new List<(DateTimeOffset, RollupKey, ExponentialHistogram, long)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var durations = new ExponentialHistogram();
            durations.Add(
                reader.GetInt16(11), reader.GetInt64(12), reader.GetInt32(13), PackedCounts.Unpack(reader.GetFieldValue<byte[]>(14)), reader.GetInt64(6),
                reader.GetDouble(7), reader.IsDBNull(8) ? double.NaN : reader.GetDouble(8), reader.IsDBNull(9) ? double.NaN : reader.GetDouble(9));
            var key = new RollupKey(reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetBoolean(5));
            rows.Add((reader.GetFieldValue<DateTimeOffset>(0), key, durations, reader.GetInt64(10)));
        }

        return rows;
    }

    /// <summary>The roll-ups merged per key, as every reader merges them.</summary>
    public static Dictionary<RollupKey, (ExponentialHistogram Durations, long Errors)> Merged(IEnumerable<MinuteRollup> rollups)
    {
        var merged = new Dictionary<RollupKey, (ExponentialHistogram, long)>();
        foreach (var rollup in rollups)
        {
            var (durations, errors) = merged.GetValueOrDefault(rollup.Key, (new ExponentialHistogram(), 0));
            durations.Merge(rollup.Durations);
            merged[rollup.Key] = (durations, errors + rollup.Errors);
        }

        return merged;
    }

    public static HistoryWriter Writer(NpgsqlDataSource db, HistoryOptions options, HistoryCounters counters, IQueryRollupSource? source = null) =>
        new(db, source ?? new ListSource([]), Options.Create(options), counters, TimeProvider.System, NullLogger<HistoryWriter>.Instance);

    /// <summary>Rows of <paramref name="service"/> in perf.query_minutes, read as the superuser (not through the code under test).</summary>
    public static async Task<List<(DateTimeOffset Minute, long Count)>> RowsAsync(StackFixture stack, string service)
    {
        await using var command = stack.ClientsDb.CreateCommand("SELECT minute, count FROM perf.query_minutes WHERE service = $1 ORDER BY minute");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = service });
        var rows = new List<(DateTimeOffset, long)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetFieldValue<DateTimeOffset>(0), reader.GetInt64(1)));
        }

        return rows;
    }
}
