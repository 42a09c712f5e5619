using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Store;
using NexusCore.PerfApi.Store.History;
using Npgsql;
using static NexusCore.PerfApi.Tests.Store.History.HistoryFixtures;

namespace NexusCore.PerfApi.Tests.Store.History;

/// <summary>
/// Closed hours compacted into <c>perf.query_hours</c> against the stack's Postgres, as PerfApi's role: the hour rows hold
/// exactly the minutes they replaced, an hour is compacted once (again, after a restart, after a crash mid-way), late
/// minutes add up, retention removes old hours, and the API's long windows read the hours.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class HistoryCompactionTests(PerfApiStack stack)
{
    private static readonly TimeSpan OneHour = TimeSpan.FromHours(1);

    [Fact]
    public async Task CompactingAClosedHourReplacesItsMinutesWithOneRowPerKeyHoldingTheirMergedFigures()
    {
        await using var db = await PerfApiRoleAsync(stack);
        var service = Service("compact");
        var hour = Hour(TimeSpan.FromDays(5));
        var rollups = Minutes(service, hour, hours: 2);
        // A minute written in two parts (before and after a restart): two rows, merged like the others.
        rollups.Add(new MinuteRollup(hour.AddMinutes(5), Keys(service)[0], Histogram(Durations(999, 3)), 1));
        await WriteAsync(db, rollups);
        var reader = new HistoryReader(db);
        var before = Mine(reader.Read(hour, hour + 2 * OneHour, OneHour), service);

        var counters = new HistoryCounters();
        var compactor = Compactor(db, counters);
        Assert.Equal(new CompactedHour(hour, 3 * 60 + 1, 3), await compactor.CompactHourAsync(hour, CancellationToken.None));
        Assert.Equal(new CompactedHour(hour + OneHour, 3 * 60, 3), await compactor.CompactHourAsync(hour + OneHour, CancellationToken.None));

        Assert.Empty(await RowsAsync(stack, service));
        var hours = await HourRowsAsync(stack, service);
        Assert.Equal(6, hours.Count);
        foreach (var (start, key, durations, errors) in hours)
        {
            var (expected, expectedErrors) = Merged(rollups.Where(r => r.Minute >= start && r.Minute < start + OneHour))[key];
            AssertSameHistogram(expected, durations);
            Assert.Equal(expectedErrors, errors);
        }

        Assert.Equal((2L, 361L, 6L, 0L), (counters.Snapshot().HoursCompacted, counters.Snapshot().MinutesCompacted, counters.Snapshot().HourRowsWritten, counters.Snapshot().CompactionFailures));
        // Read back through the reader, the same figures as from the minutes.
        var after = Mine(reader.Read(hour, hour + 2 * OneHour, OneHour), service);
        Assert.Equal(before.Count, after.Count);
        foreach (var (at, (durations, errors)) in before)
        {
            AssertSameHistogram(durations, after[at].Durations);
            Assert.Equal(errors, after[at].Errors);
        }
    }

    [Fact]
    public async Task AnHourIsCompactedOnceWhetherRunAgainOrAfterARestartAndALateMinuteAddsUp()
    {
        await using var db = await PerfApiRoleAsync(stack);
        var service = Service("once");
        var hour = Hour(TimeSpan.FromDays(4));
        var rollups = Minutes(service, hour, hours: 1);
        await WriteAsync(db, rollups);
        var total = rollups.Sum(r => r.Durations.Count);

        var first = Compactor(db, new HistoryCounters());
        Assert.Equal(new CompactedHour(hour, 180, 3), await first.CompactHourAsync(hour, CancellationToken.None));
        Assert.Equal(new CompactedHour(hour, 0, 0), await first.CompactHourAsync(hour, CancellationToken.None));
        // A restart: a new compactor, nothing remembered but what Postgres holds.
        var restarted = Compactor(db, new HistoryCounters());
        Assert.Equal(new CompactedHour(hour, 0, 0), await restarted.CompactHourAsync(hour, CancellationToken.None));
        Assert.Equal((3, total), ((await HourRowsAsync(stack, service)).Count, (await HourRowsAsync(stack, service)).Sum(h => h.Durations.Count)));

        // A minute written after its hour was compacted stays a minute, read with the hour row, until the next pass
        // adds a second row for its key: the total is the same all along.
        var late = new MinuteRollup(hour.AddMinutes(59), Keys(service)[0], Histogram(Durations(77, 7)), 0);
        await WriteAsync(db, [late]);
        var reader = new HistoryReader(db);
        Assert.Equal(total + 7, Mine(reader.Read(hour, hour + OneHour, OneHour), service).Values.Sum(v => v.Durations.Count));
        Assert.Equal(new CompactedHour(hour, 1, 1), await restarted.CompactHourAsync(hour, CancellationToken.None));
        Assert.Equal(total + 7, Mine(reader.Read(hour, hour + OneHour, OneHour), service).Values.Sum(v => v.Durations.Count));
        Assert.Equal(4, (await HourRowsAsync(stack, service)).Count);
        Assert.Empty(await RowsAsync(stack, service));
    }

    [Fact]
    public async Task ACompactionCutShortRollsBackWholeAndTheNextOneCountsEveryMinuteOnce()
    {
        await using var db = await PerfApiRoleAsync(stack);
        var service = Service("crash");
        var hour = Hour(TimeSpan.FromDays(3));
        var rollups = Minutes(service, hour, hours: 1);
        await WriteAsync(db, rollups);
        var compactor = Compactor(db, new HistoryCounters());

        // Hold the hour table so that the compaction stops between taking the minutes and writing the hour rows, then
        // kill its connection there, as a crash or a restart would.
        await using (var holder = await stack.ClientsDb.OpenConnectionAsync())
        {
            await using var transaction = await holder.BeginTransactionAsync();
            await using (var hold = new NpgsqlCommand("LOCK TABLE perf.query_hours IN SHARE MODE", holder, transaction))
            {
                await hold.ExecuteNonQueryAsync();
            }

            var compaction = compactor.CompactHourAsync(hour, CancellationToken.None);
            int? pid = null;
            await Eventually.ThatAsync(async () => (pid = await BlockedCopyAsync()) is not null, TimeSpan.FromSeconds(30), "the compaction waiting to write its hour rows");
            // Its DELETE is not committed: every minute is still there for everyone else.
            Assert.Equal(180, (await RowsAsync(stack, service)).Count);
            await using (var kill = stack.ClientsDb.CreateCommand("SELECT pg_terminate_backend($1)"))
            {
                kill.Parameters.Add(new NpgsqlParameter<int> { TypedValue = pid!.Value });
                Assert.True((bool)(await kill.ExecuteScalarAsync())!);
            }

            await Assert.ThrowsAnyAsync<NpgsqlException>(() => compaction);
            await transaction.RollbackAsync();
        }

        Assert.Equal(180, (await RowsAsync(stack, service)).Count);
        Assert.Empty(await HourRowsAsync(stack, service));

        Assert.Equal(new CompactedHour(hour, 180, 3), await compactor.CompactHourAsync(hour, CancellationToken.None));
        Assert.Equal(rollups.Sum(r => r.Durations.Count), (await HourRowsAsync(stack, service)).Sum(h => h.Durations.Count));
    }

    [Fact]
    public async Task RetentionDeletesHoursAndMinutesOlderThanItKeeps()
    {
        await using var db = await PerfApiRoleAsync(stack);
        var service = Service("retention-hours");
        var old = Hour(TimeSpan.FromDays(15));
        var kept = Hour(TimeSpan.FromDays(13));
        var key = Keys(service)[0];
        await WriteAsync(db, [.. Enumerable.Range(0, 10).SelectMany(i => new[]
        {
            new MinuteRollup(old.AddMinutes(i), key, Histogram([0.001]), 0),
            new MinuteRollup(kept.AddMinutes(i), key, Histogram([0.001]), 0),
        })]);
        var compactor = Compactor(db, new HistoryCounters());
        await compactor.CompactHourAsync(old, CancellationToken.None);
        await compactor.CompactHourAsync(kept, CancellationToken.None);
        // Minutes that never were compacted (an old backlog written late) go too.
        await WriteAsync(db, [.. Enumerable.Range(30, 5).Select(i => new MinuteRollup(old.AddMinutes(i), key, Histogram([0.001]), 0))]);

        var counters = new HistoryCounters();
        var retention = new HistoryRetention(
            db, Options.Create(new HistoryOptions { RetentionBatchRows = 100 }), counters, TimeProvider.System, NullLogger<HistoryRetention>.Instance);
        var sweep = await retention.SweepAsync(CancellationToken.None);

        // Only this test writes rows older than 14 days.
        Assert.Equal([1], sweep.HourBatches);
        Assert.Equal([5], sweep.MinuteBatches);
        Assert.Equal(6, counters.Snapshot().RowsDeleted);
        Assert.Equal([(kept, 10L)], (await HourRowsAsync(stack, service)).Select(h => (h.Hour, h.Durations.Count)));
        Assert.Empty(await RowsAsync(stack, service));
    }

    [Fact]
    public async Task TheAnalyticsLongWindowsReadCompactedHoursWithTheSameFiguresAsTheMinutesTheyReplaced()
    {
        await using var db = await PerfApiRoleAsync(stack);
        var service = Service("api-hours");
        var (hit, miss) = (Keys(service)[0], Keys(service)[1]);
        var hours = new[] { 6 * 24, 4 * 24, 2 * 24 + 3, 23, 5 }.Select(h => Hour(TimeSpan.FromHours(h))).ToList();
        var exact = new List<double>();
        var rollups = new List<MinuteRollup>();
        void Add(DateTimeOffset minute, RollupKey key, double[] values, long errors)
        {
            exact.AddRange(values);
            rollups.Add(new MinuteRollup(minute, key, Histogram(values), errors));
        }

        foreach (var (h, i) in hours.Select((h, i) => (h, i)))
        {
            for (var m = 0; m < 60; m++)
            {
                Add(h.AddMinutes(m), hit, Durations(i * 1000 + m, 5), m == 0 ? 1 : 0);
                Add(h.AddMinutes(m), miss, Durations(i * 1000 + m + 500, 5).Select(d => d * 3).ToArray(), 0);
            }
        }

        // Recent minutes, within History:MinuteRetention: they stay minutes.
        var recent = Minute(TimeSpan.FromMinutes(30));
        Add(recent, hit, Durations(1, 40), 0);
        await WriteAsync(db, rollups);
        var perf = new PerfApiClient(stack);
        var week = await SeriesAsync(perf, "7d", service);

        // Every due hour of the table is compacted (other tests' leftovers too: they are not read again).
        var compacted = await Compactor(db, new HistoryCounters(), new HistoryOptions { CompactionHoursPerPass = 10_000 }).CompactAsync(CancellationToken.None);
        Assert.Superset(hours.ToHashSet(), compacted.Select(c => c.Hour).ToHashSet());
        Assert.Equal([(recent, 40L)], await RowsAsync(stack, service));
        Assert.Equal(10, (await HourRowsAsync(stack, service)).Count);

        var weekAfter = await SeriesAsync(perf, "7d", service);
        Assert.Equal(
            ((long)exact.Count, 5 * 60 * 5 + 40L, 5 * 60 * 5L, 5L),
            (weekAfter.Long("count"), weekAfter.Long("cacheHits"), weekAfter.Long("cacheMisses"), weekAfter.Long("errors")));
        Assert.Equal(Figures(week), Figures(weekAfter));
        // p99 within the histogram's stated error (2.2 % at scale 4, finer at 5) of the exact one.
        AssertWithin(NearestRank(exact.Order().ToList(), 0.99), weekAfter.Number("p99Ms") / 1000, 0.022);
        var points = weekAfter.Items("timeSeries").ToList();
        Assert.Equal(168, points.Count);
        Assert.All(points, p => Assert.Equal(0, p.GetProperty("start").GetDateTimeOffset().Ticks % TimeSpan.TicksPerHour));
        Assert.Equal(
            hours.Select(h => (h, 600L)).Append((HistoryCompactor.HourOf(recent), 40L)),
            points.Where(p => p.Long("count") > 0).Select(p => (p.GetProperty("start").GetDateTimeOffset(), p.Long("count"))));

        // The day: the current hour and the 23 before it, hours and minutes alike.
        var day = await SeriesAsync(perf, "24h", service);
        Assert.Equal((2 * 600 + 40L, 24), (day.Long("count"), day.Items("timeSeries").Count()));
    }

    [Fact]
    public async Task TheCompactorRunsAtStartAndThenEveryInterval()
    {
        await using var db = await PerfApiRoleAsync(stack);
        var service = Service("loop-hours");
        var hour = Hour(TimeSpan.FromDays(2));
        var key = Keys(service)[0];
        await WriteAsync(db, [new MinuteRollup(hour.AddMinutes(1), key, Histogram([0.001, 0.002]), 0)]);
        // A second between passes (below what the settings allow, so that the test is short).
        var compactor = Compactor(db, new HistoryCounters(), new HistoryOptions { CompactionInterval = TimeSpan.FromSeconds(1) });
        await compactor.StartAsync(CancellationToken.None);
        try
        {
            await Eventually.ThatAsync(async () => (await HourRowsAsync(stack, service)).Count == 1, TimeSpan.FromSeconds(30), "the first pass at start");
            Assert.Empty(await RowsAsync(stack, service));

            await WriteAsync(db, [new MinuteRollup(hour.AddMinutes(2), key, Histogram([0.003]), 0)]);
            await Eventually.ThatAsync(async () => (await HourRowsAsync(stack, service)).Count == 2, TimeSpan.FromSeconds(30), "a later pass");
            Assert.Equal(3, (await HourRowsAsync(stack, service)).Sum(h => h.Durations.Count));
        }
        finally
        {
            await compactor.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>Three keys of a service: a cached read's hit and miss, and a write (no cache outcome).</summary>
    private static RollupKey[] Keys(string service) =>
    [
        new(service, "clients", "SELECT", "find", true),
        new(service, "clients", "SELECT", "find", false),
        new(service, "clients", "INSERT", "write", null),
    ];

    /// <summary>Every minute of <paramref name="hours"/> hours from <paramref name="hour"/>, for the three keys, some with errors.</summary>
    private static List<MinuteRollup> Minutes(string service, DateTimeOffset hour, int hours) =>
        Enumerable.Range(0, hours * 60).SelectMany(m => Keys(service).Select((key, k) =>
            new MinuteRollup(hour.AddMinutes(m), key, Histogram(Durations(m * 10 + k, 10 + k)), m % 7 == k ? 1 : 0))).ToList();

    private static async Task WriteAsync(NpgsqlDataSource db, IEnumerable<MinuteRollup> rollups)
    {
        var writer = Writer(db, new HistoryOptions { MaxBatchRows = 10_000, MaxBacklogRows = 100_000 }, new HistoryCounters());
        writer.Enqueue(rollups);
        Assert.True(await writer.WriteBacklogAsync(CancellationToken.None));
    }

    private static Dictionary<(RollupKey, DateTimeOffset), (ExponentialHistogram Durations, long Errors)> Mine(IEnumerable<MinuteRollup> rollups, string service) =>
        rollups.Where(r => r.Key.Service == service).ToDictionary(r => (r.Key, r.Minute), r => (r.Durations, r.Errors));

    /// <summary>The same histogram: totals, range, buckets and scale (the sum within rounding: it is added in another order).</summary>
    private static void AssertSameHistogram(ExponentialHistogram expected, ExponentialHistogram actual)
    {
        Assert.Equal((expected.Count, expected.ZeroCount, expected.Min, expected.Max), (actual.Count, actual.ZeroCount, actual.Min, actual.Max));
        Assert.Equal(expected.Sum, actual.Sum, 9);
        Assert.Equal((expected.Scale, expected.Offset), (actual.Scale, actual.Offset));
        Assert.Equal(expected.Counts.ToArray(), actual.Counts.ToArray());
        Assert.Equal(expected.Quantile(0.99), actual.Quantile(0.99));
    }

    /// <summary>The backend of a COPY into perf.query_hours waiting for a lock, if one is.</summary>
    private async Task<int?> BlockedCopyAsync()
    {
        await using var command = stack.ClientsDb.CreateCommand("""
            SELECT pid FROM pg_stat_activity
            WHERE wait_event_type = 'Lock' AND query LIKE 'COPY perf.query_hours%' AND usename = 'nexuscore_perf_api'
            """);
        return await command.ExecuteScalarAsync() as int?;
    }

    private static async Task<System.Text.Json.JsonElement> SeriesAsync(PerfApiClient perf, string window, string service)
    {
        var page = await perf.GetAsync($"/api/v1/performance/analytics?window={window}");
        Assert.Equal(3600, page.Number("pointSeconds"));
        return Assert.Single(page.Items("series"), s => s.Text("service") == service);
    }

    private static (long, long, long, long, double, double, double, double, double) Figures(System.Text.Json.JsonElement s) => (
        s.Long("count"), s.Long("cacheHits"), s.Long("cacheMisses"), s.Long("errors"),
        Math.Round(s.Number("meanMs"), 6), Math.Round(s.Number("maxMs"), 6),
        Math.Round(s.Number("p50Ms"), 6), Math.Round(s.Number("p95Ms"), 6), Math.Round(s.Number("p99Ms"), 6));
}
