using System.Diagnostics;
using NexusCore.PerfApi.Store;
using NexusCore.PerfApi.Store.History;
using Npgsql;
using Xunit.Abstractions;
using static NexusCore.PerfApi.Tests.Store.History.HistoryFixtures;

namespace NexusCore.PerfApi.Tests.Store.History;

/// <summary>
/// What a full week costs: ten series, every minute of 7 days (100,800 rows), written through the writer's batches and
/// read back as the <c>7d</c> window does. Prints the times (a measurement, not a timed assertion); asserts the counts.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class HistoryCostTests(PerfApiStack stack, ITestOutputHelper output)
{
    [Fact]
    public async Task AWeekOfTenSeriesIsWrittenInBatchesOfAThousandAndReadBackWhole()
    {
        await using var db = await PerfApiRoleAsync(stack);
        var service = Service("week");
        var to = Minute(TimeSpan.FromMinutes(30));
        var from = to - TimeSpan.FromDays(7);
        var minutes = (int)(to - from).TotalMinutes;
        var keys = Enumerable.Range(0, 10).Select(i => new RollupKey(service, "clients", "SELECT", $"type{i}", i % 2 == 0)).ToList();
        var rollups = new List<MinuteRollup>(minutes * keys.Count);
        for (var m = 0; m < minutes; m++)
        {
            var durations = Durations(m, 20);
            rollups.AddRange(keys.Select(key => new MinuteRollup(from.AddMinutes(m), key, Histogram(durations), 0)));
        }

        var buckets = rollups.Sum(r => r.Durations.Counts.Length);
        var counters = new HistoryCounters();
        var writer = Writer(db, new HistoryOptions { MaxBatchRows = 1000, MaxBacklogRows = 200_000 }, counters);
        try
        {
            writer.Enqueue(rollups);
            var clock = Stopwatch.StartNew();
            Assert.True(await writer.WriteBacklogAsync(CancellationToken.None));
            var written = clock.Elapsed;
            Assert.Equal((100_800L, 101L), (counters.Snapshot().RowsWritten, counters.Snapshot().BatchesWritten));

            clock.Restart();
            var series = (await new HistoryReader(db).ReadAsync(from, to, TimeSpan.FromHours(6), CancellationToken.None))
                .Where(s => s.Key.Service == service).ToList();
            var read = clock.Elapsed;

            Assert.Equal(10, series.Count);
            Assert.All(series, s => Assert.Equal(minutes * 20L, s.Durations.Count));
            Assert.All(series, s => Assert.Equal(28, s.Points.Count));
            // Through the seam, as analytics reads 7d: the first read of a start bins per hour in Postgres, the next is cached.
            var seam = new HistoryRollupReader(
                new HistoryReader(db), Writer(db, new HistoryOptions(), new HistoryCounters()), new ListSource([]),
                Microsoft.Extensions.Options.Options.Create(new TelemetryStoreOptions()),
                Microsoft.Extensions.Options.Options.Create(new HistoryOptions()),
                TimeProvider.System);
            var reads = new List<TimeSpan>();
            for (var i = 0; i < 2; i++)
            {
                clock.Restart();
                var rollupsRead = seam.Read(from, to).Where(r => r.Key.Service == service).ToList();
                reads.Add(clock.Elapsed);
                Assert.Equal(minutes * 20L * keys.Count, rollupsRead.Sum(r => r.Durations.Count));
                Assert.Equal(7 * 24 * keys.Count, rollupsRead.Count);
            }

            output.WriteLine(
                $"History cost: wrote {rollups.Count} rows ({buckets / (double)rollups.Count:0.0} buckets each) in {counters.Snapshot().BatchesWritten} COPYs in {written.TotalSeconds:0.00} s " +
                $"({rollups.Count / written.TotalSeconds:0} rows/s); read the 7-day window back (10 series, 28 points) in {read.TotalMilliseconds:0} ms; " +
                $"through the seam (per key and hour) in {reads[0].TotalMilliseconds:0} ms, again for the same start (cached) in {reads[1].TotalMilliseconds:0} ms");
        }
        finally
        {
            await using var delete = stack.ClientsDb.CreateCommand("DELETE FROM perf.query_minutes WHERE service = $1");
            delete.Parameters.Add(new NpgsqlParameter<string> { TypedValue = service });
            await delete.ExecuteNonQueryAsync();
        }
    }
}
