using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using Aspire.Hosting.Testing;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using NexusCore.PerfApi.Store;
using NexusCore.PerfApi.Store.History;
using static NexusCore.PerfApi.Tests.Store.History.HistoryFixtures;

namespace NexusCore.PerfApi.Tests.Store.History;

[CollectionDefinition(Name)]
public sealed class HistoryRestartCollection : ICollectionFixture<HistoryRestartStack>
{
    public const string Name = "history-restart";
}

/// <summary>
/// A stack of its own: the test restarts PerfApi, which empties its memory, and no other test's figures should
/// depend on that. History is written every second, a minute once it is 2 s old.
/// </summary>
public sealed class HistoryRestartStack : StackFixture
{
    protected override IEnumerable<string> ExtraArgs =>
    [
        .. base.ExtraArgs,
        "--NexusCore:Services:perf-api:Environment:History__FlushInterval", TimeSpan.FromSeconds(1).ToString("c", CultureInfo.InvariantCulture),
        "--NexusCore:Services:perf-api:Environment:History__Grace", TimeSpan.FromSeconds(2).ToString("c", CultureInfo.InvariantCulture),
    ];
}

/// <summary>
/// The real path end to end: a service exports <c>nexuscore.query.duration</c> as a base-2 exponential histogram over
/// OTLP, PerfApi's store rolls it up per minute, the history writer persists it, PerfApi is killed and started again,
/// and the analytics read the same figures back.
/// </summary>
/// <remarks>
/// Both reads go through the one roll-up seam (<c>HistoryRollupReader</c>): before the kill, memory (and Postgres for
/// the minute this run started in); after it, Postgres for every minute memory lost.
/// </remarks>
[Collection(HistoryRestartCollection.Name)]
public sealed class HistoryRestartTests(HistoryRestartStack stack)
{
    [Fact]
    public async Task QueryFiguresReadBackTheSameAfterPerfApiRestarts()
    {
        var service = Service("restart");
        var hits = Durations(100, 700);
        var misses = Durations(101, 300).Select(d => d * 3).ToArray();
        using (var meters = Exporter(service))
        {
            using var meter = new Meter("NexusCore.ClientsApi");
            var duration = meter.CreateHistogram<double>("nexuscore.query.duration", "s");
            foreach (var (values, hit) in new[] { (hits, true), (misses, false) })
            {
                foreach (var value in values)
                {
                    duration.Record(value, new TagList
                    {
                        { "nexuscore.query.type", "find" },
                        { "db.collection.name", "clients" },
                        { "db.operation.name", "SELECT" },
                        { "nexuscore.cache.hit", hit },
                    });
                }
            }

            Assert.True(meters.ForceFlush(10_000));
        }

        var perf = new PerfApiClient(stack);
        var before = await Eventually.WaitAsync(
            async () => Find(await perf.GetAsync("/api/v1/performance/analytics?window=1h"), service, 1000),
            "the exported histogram in analytics",
            TimeSpan.FromSeconds(30));
        var exact = hits.Concat(misses).Order().ToList();
        Assert.Equal((700L, 300L), (before.Long("cacheHits"), before.Long("cacheMisses")));
        AssertWithin(NearestRank(exact, 0.99), before.Number("p99Ms") / 1000, 0.05);

        // Once the minute has closed (and its grace passed) the writer persists it; then PerfApi dies without a word.
        await Eventually.ThatAsync(async () => (await RowsAsync(stack, service)).Sum(r => r.Count) == 1000, TimeSpan.FromSeconds(100),
            "the service's minute roll-ups in perf.query_minutes", TimeSpan.FromSeconds(1));
        await RestartPerfApiAsync();

        // Memory is empty now: the hour before the restart, and the day, come from Postgres.
        foreach (var window in new[] { "1h", "24h" })
        {
            var after = Assert.Single(
                (await perf.GetAsync($"/api/v1/performance/analytics?window={window}")).Items("series"), s => s.Text("service") == service);
            Assert.Equal(Figures(before), Figures(after));
        }

    }

    /// <summary>
    /// The read half of the same path, without the metric store: minutes a run persisted (written here as PerfApi's
    /// role) are read back the same by the next run, in every window that covers them, the hour included (which
    /// memory alone answers only once PerfApi has run for an hour).
    /// </summary>
    [Fact]
    public async Task PersistedMinutesReadBackTheSameAfterPerfApiRestarts()
    {
        await using var db = await PerfApiRoleAsync(stack);
        var service = Service("restart-read");
        var minute = Minute(TimeSpan.FromMinutes(20));
        var key = new RollupKey(service, "clients", "SELECT", "find", true);
        var writer = Writer(db, new HistoryOptions(), new HistoryCounters());
        writer.Enqueue([
            new MinuteRollup(minute, key, Histogram(Durations(200, 400)), 1),
            new MinuteRollup(minute.AddMinutes(1), key with { CacheHit = false }, Histogram(Durations(201, 100)), 0),
        ]);
        Assert.True(await writer.WriteBacklogAsync(CancellationToken.None));

        var perf = new PerfApiClient(stack);
        var before = new Dictionary<string, JsonElement>();
        foreach (var window in new[] { "1h", "24h", "7d" })
        {
            before[window] = Assert.Single((await perf.GetAsync($"/api/v1/performance/analytics?window={window}")).Items("series"), s => s.Text("service") == service);
            Assert.Equal((500L, 400L, 100L, 1L), (before[window].Long("count"), before[window].Long("cacheHits"), before[window].Long("cacheMisses"), before[window].Long("errors")));
        }

        await RestartPerfApiAsync();

        foreach (var (window, figures) in before)
        {
            var after = Assert.Single((await perf.GetAsync($"/api/v1/performance/analytics?window={window}")).Items("series"), s => s.Text("service") == service);
            Assert.Equal(Figures(figures), Figures(after));
        }
    }

    /// <summary>
    /// Kills PerfApi (SIGKILL: no shutdown, as a crash or an OOM kill) and starts it again. A graceful stop would also
    /// write the open minutes (covered by the writer's own tests), but the orchestrator's stop command gives a project
    /// about 10 s and PerfApi's shutdown takes that long here, so the command reports a failure.
    /// </summary>
    private async Task RestartPerfApiAsync()
    {
        await stack.KillResourceAsync("perf-api");
        await stack.StartResourceAsync("perf-api");
    }

    private static (long, long, long, long, double, double, double, double, double) Figures(JsonElement s) => (
        s.Long("count"), s.Long("cacheHits"), s.Long("cacheMisses"), s.Long("errors"),
        Math.Round(s.Number("meanMs"), 6), Math.Round(s.Number("maxMs"), 6),
        Math.Round(s.Number("p50Ms"), 6), Math.Round(s.Number("p95Ms"), 6), Math.Round(s.Number("p99Ms"), 6));

    private static JsonElement? Find(JsonElement page, string service, long count) =>
        page.Items("series").Where(s => s.Text("service") == service && s.Text("queryType") == "find").Select(s => (JsonElement?)s)
            .FirstOrDefault(s => s!.Value.Long("count") == count);

    /// <summary>The test as a service exporting the histogram as ClientsApi's ServiceDefaults would, exponential buckets.</summary>
    private MeterProvider Exporter(string service) =>
        Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService(service, serviceInstanceId: "tests"))
            .AddMeter("NexusCore.ClientsApi")
            .AddView("nexuscore.query.duration", new Base2ExponentialBucketHistogramConfiguration())
            .AddOtlpExporter((options, reader) =>
            {
                options.Protocol = OtlpExportProtocol.HttpProtobuf;
                options.Endpoint = new Uri(stack.App.GetEndpoint("perf-api", "http"), "/v1/metrics");
                options.Headers = $"X-Api-Key={stack.ApiKey("ingest")}";
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 500;
            })
            .Build();
}
