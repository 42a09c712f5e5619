using System.Diagnostics;
using NexusCore.PerfApi.Store;
using NexusCore.PerfApi.Store.History;
using Npgsql;
using Xunit.Abstractions;
using static NexusCore.PerfApi.Tests.Store.History.HistoryFixtures;

namespace NexusCore.PerfApi.Tests.Store.History;

/// <summary>
/// What a full week costs: forty series, every minute of the <c>7d</c> window (about 403,000 rows, 20 queries each),
/// written through the writer's batches, read back as the <c>7d</c> window does (through the seam, and through the
/// API), then compacted into hours and read again. Prints the times (a measurement, not a timed assertion); asserts
/// the counts and that the hours give the same figures as the minutes.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class HistoryCostTests(PerfApiStack stack, ITestOutputHelper output)
{
    private const int Keys = 40;
    private const int QueriesPerMinute = 20;

    [Fact]
    public async Task AWeekOfFortySeriesIsReadFromHoursOnceCompactedWithTheSameFigures()
    {
        await using var db = await PerfApiRoleAsync(stack);
        var service = Service("week");
        var now = DateTimeOffset.UtcNow;
        // As analytics reads 7d: the current hour and the 167 before it, up to the minute after now.
        var from = HistoryCompactor.HourOf(now) - TimeSpan.FromHours(167);
        var to = HistoryWriter.MinuteOf(now) + TimeSpan.FromMinutes(1);
        var minutes = (int)(HistoryWriter.MinuteOf(now) - from).TotalMinutes;
        var keys = Enumerable.Range(0, Keys).Select(i => new RollupKey(service, $"table{i % 4}", i % 5 == 0 ? "INSERT" : "SELECT", $"type{i}", i % 5 == 0 ? null : i % 2 == 0)).ToList();
        var perf = new PerfApiClient(stack);
        try
        {
            var (written, rows, buckets) = await SeedAsync(db, keys, from, minutes);
            Assert.Equal((long)minutes * Keys, rows);

            var seam = new HistoryRollupReader(
                new HistoryReader(db), Writer(db, new HistoryOptions(), new HistoryCounters()), new ListSource([]),
                Microsoft.Extensions.Options.Options.Create(new TelemetryStoreOptions()),
                Microsoft.Extensions.Options.Options.Create(new HistoryOptions()),
                TimeProvider.System);
            var clock = Stopwatch.StartNew();
            var fromMinutes = Mine(seam.Read(from, to), service);
            var beforeSeam = clock.Elapsed;
            clock.Restart();
            await perf.GetAsync("/api/v1/performance/analytics?window=7d");
            var beforeApi = clock.Elapsed;
            Assert.Equal((long)minutes * QueriesPerMinute * Keys, fromMinutes.Values.Sum(h => h.Count));

            clock.Restart();
            var compacted = await Compactor(db, new HistoryCounters(), new HistoryOptions { CompactionHoursPerPass = 10_000 }).CompactAsync(CancellationToken.None);
            var compaction = clock.Elapsed;
            var dueHours = (int)(HistoryCompactor.HourOf(now - new HistoryOptions().MinuteRetention) - from).TotalHours;
            Assert.Superset(Enumerable.Range(0, dueHours).Select(h => from.AddHours(h)).ToHashSet(), compacted.Select(c => c.Hour).ToHashSet());

            // Wall time, and this process's CPU time (decoding and merging; Postgres is another process): the shared
            // machine's load stretches the first, not the second.
            var seamReads = new List<(TimeSpan Wall, TimeSpan Cpu)>();
            Dictionary<RollupKey, ExponentialHistogram>? fromHours = null;
            for (var i = 0; i < 3; i++)
            {
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                clock.Restart();
                fromHours = Mine(seam.Read(from, to), service);
                seamReads.Add((clock.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu));
            }

            var apiReads = new List<TimeSpan>();
            for (var i = 0; i < 2; i++)
            {
                clock.Restart();
                var page = await perf.GetAsync("/api/v1/performance/analytics?window=7d");
                apiReads.Add(clock.Elapsed);
                Assert.Equal(Keys, page.Items("series").Count(s => s.Text("service") == service));
            }

            // The hours give what the minutes gave: every key's count, and its p99 exactly (the same buckets merged).
            Assert.Equal((Keys, Keys), (fromMinutes.Count, fromHours!.Count));
            Assert.All(fromMinutes, m => Assert.Equal((m.Value.Count, m.Value.Quantile(0.99)), (fromHours[m.Key].Count, fromHours[m.Key].Quantile(0.99))));

            output.WriteLine(
                $"History cost: {Keys} series, {rows} minute rows ({buckets / (double)rows:0.0} buckets each) written in {written.TotalSeconds:0.0} s; " +
                $"7d before compaction: seam {beforeSeam.TotalMilliseconds:0} ms, API {beforeApi.TotalMilliseconds:0} ms; " +
                $"compaction of {compacted.Count} hours ({compacted.Sum(c => c.MinuteRows)} minute rows into {compacted.Sum(c => c.HourRows)} hour rows) in {compaction.TotalSeconds:0.0} s; " +
                $"7d after: seam {string.Join(", ", seamReads.Select(r => $"{r.Wall.TotalMilliseconds:0} ms (CPU {r.Cpu.TotalMilliseconds:0} ms)"))}, " +
                $"API {apiReads[0].TotalMilliseconds:0} ms then {apiReads[1].TotalMilliseconds:0} ms; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        }
        finally
        {
            await using var delete = stack.ClientsDb.CreateBatch();
            foreach (var sql in new[] { "DELETE FROM perf.query_minutes WHERE service = $1", "DELETE FROM perf.query_hours WHERE service = $1" })
            {
                var command = new NpgsqlBatchCommand(sql);
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = service });
                delete.BatchCommands.Add(command);
            }

            await delete.ExecuteNonQueryAsync();
        }
    }

    /// <summary>
    /// Every minute of the week for every key, written a day at a time through the writer's binary COPY batches (one
    /// histogram per minute shared by the keys, so the test holds a day, not the week).
    /// </summary>
    private static async Task<(TimeSpan Written, long Rows, long Buckets)> SeedAsync(NpgsqlDataSource db, List<RollupKey> keys, DateTimeOffset from, int minutes)
    {
        var counters = new HistoryCounters();
        var writer = Writer(db, new HistoryOptions { MaxBatchRows = 10_000, MaxBacklogRows = 100_000 }, counters);
        long buckets = 0;
        var clock = Stopwatch.StartNew();
        for (var day = 0; day < minutes; day += 1440)
        {
            var rollups = new List<MinuteRollup>(1440 * keys.Count);
            for (var m = day; m < Math.Min(day + 1440, minutes); m++)
            {
                var durations = Histogram(Durations(m, QueriesPerMinute));
                buckets += durations.Counts.Length * (long)keys.Count;
                rollups.AddRange(keys.Select(key => new MinuteRollup(from.AddMinutes(m), key, durations, 0)));
            }

            writer.Enqueue(rollups);
            Assert.True(await writer.WriteBacklogAsync(CancellationToken.None));
        }

        return (clock.Elapsed, counters.Snapshot().RowsWritten, buckets);
    }

    /// <summary>The service's roll-ups merged per key over the whole range.</summary>
    private static Dictionary<RollupKey, ExponentialHistogram> Mine(IEnumerable<MinuteRollup> rollups, string service)
    {
        var merged = new Dictionary<RollupKey, ExponentialHistogram>();
        foreach (var rollup in rollups.Where(r => r.Key.Service == service))
        {
            if (!merged.TryGetValue(rollup.Key, out var histogram))
            {
                merged[rollup.Key] = histogram = new ExponentialHistogram();
            }

            histogram.Merge(rollup.Durations);
        }

        return merged;
    }
}
