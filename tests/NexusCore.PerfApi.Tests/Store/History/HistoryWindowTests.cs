using System.Net;
using System.Text.Json;
using NexusCore.PerfApi.Store;
using NexusCore.PerfApi.Store.History;
using static NexusCore.PerfApi.Tests.Store.History.HistoryFixtures;

namespace NexusCore.PerfApi.Tests.Store.History;

/// <summary>Analytics over <c>24h</c> and <c>7d</c>: the running PerfApi reads persisted minutes back.</summary>
[Collection(StackCollection.Name)]
public sealed class HistoryWindowTests(PerfApiStack stack)
{
    private readonly PerfApiClient _perf = new(stack);

    [Fact]
    public async Task AnalyticsOver24hAnd7dReadsPersistedMinutesBackWithTheirCountsCacheHitsAndPercentiles()
    {
        await using var db = await PerfApiRoleAsync(stack);
        var service = Service("windows");
        var hit = new RollupKey(service, "clients", "SELECT", "find", true);
        var miss = hit with { CacheHit = false };
        var hoursAgo = Minute(TimeSpan.FromHours(3));
        var daysAgo = Minute(TimeSpan.FromDays(3));
        // Within the day: 3 minutes of hits (100 each) and 1 of misses (100, 2 failed); within the week only: 200 hits.
        var day = Enumerable.Range(0, 3).Select(i => new MinuteRollup(hoursAgo.AddMinutes(i), hit, Histogram(Durations(10 + i, 100)), 0))
            .Append(new MinuteRollup(hoursAgo, miss, Histogram(Durations(20, 100).Select(d => d * 4)), 2))
            .ToList();
        var week = Enumerable.Range(0, 2).Select(i => new MinuteRollup(daysAgo.AddMinutes(i), hit, Histogram(Durations(30 + i, 100)), 0)).ToList();
        var writer = Writer(db, new HistoryOptions(), new HistoryCounters());
        writer.Enqueue([.. week, .. day]);
        Assert.True(await writer.WriteBacklogAsync(CancellationToken.None));

        var lastDay = await SeriesAsync("24h", service);
        AssertFigures(lastDay, day, expectedPoints: 24, pointSeconds: 3600);
        Assert.Equal((300L, 100L, 75.0, 2L), (lastDay.Long("cacheHits"), lastDay.Long("cacheMisses"), lastDay.Number("cacheHitRatePercent"), lastDay.Long("errors")));

        var lastWeek = await SeriesAsync("7d", service);
        AssertFigures(lastWeek, [.. week, .. day], expectedPoints: 168, pointSeconds: 3600);
        Assert.Equal((500L, 100L), (lastWeek.Long("cacheHits"), lastWeek.Long("cacheMisses")));

        // Within the hour, memory alone answers: these minutes are older.
        var hour = await _perf.GetAsync("/api/v1/performance/analytics?window=1h");
        Assert.DoesNotContain(hour.Items("series"), s => s.Text("service") == service);
    }

    [Fact]
    public async Task AWindowIsThePersistedMinutesBeforeTheWritersBoundaryPlusMemoryFromItAndTheRestartMinuteFromBoth()
    {
        await using var db = await PerfApiRoleAsync(stack);
        var service = Service("split");
        var key = new RollupKey(service, "clients", "SELECT", "find", true);
        var m0 = Minute(TimeSpan.Zero);
        // The previous run wrote a minute half an hour ago, and at shutdown its part of the minute this run starts in.
        var previous = Writer(db, new HistoryOptions(), new HistoryCounters());
        previous.Enqueue([
            new MinuteRollup(m0.AddMinutes(-30), key, Histogram(Durations(40, 100)), 0),
            new MinuteRollup(m0, key, Histogram(Durations(41, 10)), 0),
        ]);
        Assert.True(await previous.WriteBacklogAsync(CancellationToken.None));

        // This run's memory: its own part of that minute.
        var memory = new ListSource([new MinuteRollup(m0, key, Histogram(Durations(42, 5)), 1)]);
        var current = Writer(db, new HistoryOptions(), new HistoryCounters(), memory);
        var history = new HistoryRollupReader(
            new HistoryReader(db), current, memory,
            Microsoft.Extensions.Options.Options.Create(new TelemetryStoreOptions()),
            Microsoft.Extensions.Options.Options.Create(new HistoryOptions()),
            TimeProvider.System);

        // Nothing written by this run yet: minute 0 is read from both (10 + 5), the older one from Postgres.
        Assert.Equal((115L, 1L), Count(history, m0, service));

        // This run writes its part: the whole minute is now read from Postgres, and from memory nothing twice.
        current.Collect(m0.AddMinutes(1));
        Assert.True(await current.WriteBacklogAsync(CancellationToken.None));
        Assert.Equal(m0.AddMinutes(1), current.PersistedBefore);
        Assert.Equal((115L, 1L), Count(history, m0, service));
        // The two parts of minute 0 are rows of their own, in no set order.
        Assert.Equal([(m0.AddMinutes(-30), 100L), (m0, 5L), (m0, 10L)], (await RowsAsync(stack, service)).Order());
    }

    [Fact]
    public async Task WithPostgresStoppedAWindowNeedingItIsA503AndOneMemoryHoldsIsStillAnswered()
    {
        await stack.StopResourceAsync("postgres");
        try
        {
            var response = await _perf.Http.GetAsync("/api/v1/performance/analytics?window=7d");
            var problem = await Problem.ReadAsync(response, HttpStatusCode.ServiceUnavailable);
            Assert.Equal("5", response.Headers.GetValues("Retry-After").Single());
            Assert.Contains("7d", problem.Detail, StringComparison.Ordinal);
            Assert.Equal("history_unavailable", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Text("code"));

            Assert.Equal("5m", (await _perf.GetAsync("/api/v1/performance/analytics?window=5m")).Text("window"));
        }
        finally
        {
            await stack.StartResourceAsync("postgres");
        }
    }

    /// <summary>The hour ending with <paramref name="m0"/> through the seam: its roll-ups of the service added up.</summary>
    private static (long Count, long Errors) Count(HistoryRollupReader history, DateTimeOffset m0, string service)
    {
        var mine = history.Read(m0.AddMinutes(-59), m0.AddMinutes(1)).Where(r => r.Key.Service == service).ToList();
        Assert.NotEmpty(mine);
        return (mine.Sum(r => r.Durations.Count), mine.Sum(r => r.Errors));
    }

    [Theory]
    [InlineData("window=30d")]
    [InlineData("window=24H")]
    [InlineData("window=1d")]
    public async Task AWindowBeyondTheOnesOfferedIsA400ListingThem(string query)
    {
        var problem = await Problem.ReadAsync(await _perf.Http.GetAsync($"/api/v1/performance/analytics?{query}"), HttpStatusCode.BadRequest);

        var error = Assert.Single(problem.Errors);
        Assert.Equal(("window", "window_unknown"), (error.Name, error.Code));
        Assert.Contains("5m, 15m, 1h, 24h, 7d", error.Reason, StringComparison.Ordinal);
    }

    private async Task<JsonElement> SeriesAsync(string window, string service)
    {
        var page = await _perf.GetAsync($"/api/v1/performance/analytics?window={window}");
        Assert.Equal(window, page.Text("window"));
        return Assert.Single(page.Items("series"), s => s.Text("service") == service);
    }

    /// <summary>The series' figures are the merged roll-ups' (exactly), and within the histogram's error of the exact values.</summary>
    private static void AssertFigures(JsonElement series, IReadOnlyList<MinuteRollup> rollups, int expectedPoints, double pointSeconds)
    {
        var merged = new ExponentialHistogram();
        foreach (var rollup in rollups)
        {
            merged.Merge(rollup.Durations);
        }

        Assert.Equal(("clients", "SELECT", "find"), (series.Text("table"), series.Text("operation"), series.Text("queryType")));
        Assert.Equal(merged.Count, series.Long("count"));
        Assert.Equal(merged.Sum / merged.Count * 1000, series.Number("meanMs"), 9);
        Assert.Equal(merged.Max * 1000, series.Number("maxMs"), 9);
        foreach (var (q, name) in new[] { (0.5, "p50Ms"), (0.95, "p95Ms"), (0.99, "p99Ms") })
        {
            Assert.Equal(merged.Quantile(q)!.Value * 1000, series.Number(name), 9);
        }

        var points = series.Items("timeSeries").ToList();
        Assert.Equal(expectedPoints, points.Count);
        Assert.Equal(merged.Count, points.Sum(p => p.Long("count")));
        Assert.All(points.Zip(points.Skip(1)), pair =>
            Assert.Equal(pointSeconds, (pair.Second.GetProperty("start").GetDateTimeOffset() - pair.First.GetProperty("start").GetDateTimeOffset()).TotalSeconds));
        Assert.Equal(merged.Count / (expectedPoints * pointSeconds), series.Number("throughputPerSecond"), 9);
    }
}
