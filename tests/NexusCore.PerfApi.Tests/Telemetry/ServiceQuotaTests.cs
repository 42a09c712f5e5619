using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Store;
using NexusCore.PerfApi.Tests.Performance;
using static NexusCore.PerfApi.Tests.Telemetry.StoreFixtures;

namespace NexusCore.PerfApi.Tests.Telemetry;

/// <summary>Per-service quotas: a noisy service churns through its own series and never keeps another's out.</summary>
[NoStack]
public sealed class ServiceQuotaTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    [Fact]
    public void AtItsQuotaAServicesNewSeriesReplacesItsOwnLeastRecentlySeen()
    {
        var telemetry = new SyntheticTelemetry(o => (o.MaxQuerySeries, o.MaxQuerySeriesPerService) = (10, 3));
        telemetry.Queries("find", [1], service: "real", operation: "real");
        foreach (var operation in new[] { "a", "b", "c", "a", "d" })
        {
            telemetry.Queries("find", [1], service: "noisy", operation: operation);
        }

        Assert.Equal(["a", "c", "d"], Operations(telemetry, "noisy").Keys);
        Assert.Equal(2, Operations(telemetry, "noisy")["a"]);
        Assert.Equal(["real"], Operations(telemetry, "real").Keys);
        Assert.Equal(1, telemetry.Store.Counters.Snapshot().QuerySeriesEvicted);
        Assert.Equal(4, telemetry.Store.Rollups.Count);
    }

    [Fact]
    public void WhenTheStoreIsFullAServiceUnderItsQuotaTakesTheRoomOfTheServiceHoldingTheMost()
    {
        var telemetry = new SyntheticTelemetry(o => (o.MaxQuerySeries, o.MaxQuerySeriesPerService) = (6, 4));
        telemetry.Queries("find", [1], service: "real", operation: "x");
        telemetry.Queries("find", [1], service: "other", operation: "y");

        // Four noisy series fill the store after the two real ones; they are seen after the real ones, and often.
        for (var round = 0; round < 3; round++)
        {
            foreach (var operation in new[] { "a", "b", "c", "d" })
            {
                telemetry.Queries("find", [1], service: "noisy", operation: operation);
            }
        }

        telemetry.Queries("find", [1], service: "real", operation: "z");

        Assert.Equal(["x", "z"], Operations(telemetry, "real").Keys);
        Assert.Equal(["y"], Operations(telemetry, "other").Keys);
        Assert.Equal(["b", "c", "d"], Operations(telemetry, "noisy").Keys);
        Assert.Equal(3, Operations(telemetry, "noisy")["b"]);
        Assert.Equal(1, telemetry.Store.Counters.Snapshot().QuerySeriesEvicted);
        Assert.Equal(6, telemetry.Store.Rollups.Count);
    }

    [Fact]
    public void AFloodOfNewSeriesFromOneServiceLeavesEveryOtherServicesSeriesInPlace()
    {
        // Three noisy services could hold 48 series: more than the store has room for beside the real ten.
        var telemetry = new SyntheticTelemetry(o => (o.MaxQuerySeries, o.MaxQuerySeriesPerService) = (50, 16));
        for (var i = 0; i < 10; i++)
        {
            telemetry.Queries("find", [1], service: "clients-api", operation: $"real-{i}");
        }

        for (var i = 0; i < 2000; i++)
        {
            telemetry.Queries("find", [1], service: $"hostile-{i % 3}", operation: Guid.NewGuid().ToString("N"));
        }

        for (var i = 0; i < 10; i++)
        {
            telemetry.Queries("find", [1], service: "clients-api", operation: $"real-{i}");
        }

        var real = Operations(telemetry, "clients-api");
        Assert.Equal(10, real.Count);
        Assert.All(real.Values, count => Assert.Equal(2, count));
        Assert.Equal(50, telemetry.Store.Rollups.Count);
        Assert.Equal(2000 - 40, telemetry.Store.Counters.Snapshot().QuerySeriesEvicted);
    }

    [Fact]
    public void StatementsHaveTheirOwnQuotaPerService()
    {
        var (store, clock) = Create(o => (o.MaxStatements, o.MaxStatementsPerService) = (4, 2));
        var now = clock.GetUtcNow();
        store.Apply(Batch(SqlSpan(now.AddSeconds(-10), Ms, "SELECT 1 FROM real", service: "real")));
        store.Apply(Batch([.. Enumerable.Range(0, 50).Select(i => SqlSpan(now.AddSeconds(-9 + (i / 10.0)), Ms, $"SELECT 1 FROM t{i}", service: "noisy"))]));
        store.Apply(Batch(SqlSpan(now, Ms, "SELECT 1 FROM other", service: "other")));

        var statements = store.Statements.List(new StatementQuery(Hour, Limit: 100)).Select(s => (s.Service, s.Statement)).Order().ToList();

        Assert.Equal([("noisy", "SELECT ? FROM t48"), ("noisy", "SELECT ? FROM t49"), ("other", "SELECT ? FROM other"), ("real", "SELECT ? FROM real")], statements);
        Assert.Equal(48, store.Counters.Snapshot().StatementsEvicted);
    }

    [Fact]
    public void MetricSeriesHaveTheirOwnQuotaPerServiceAcrossItsInstances()
    {
        var (store, clock) = Create(o => (o.MaxMetricSeries, o.MaxMetricSeriesPerService) = (5, 3));
        var now = clock.GetUtcNow();
        store.Apply(new MetricBatch([Gauge("real", "pool", now.AddSeconds(-40), "a")], 1, 0));
        store.Apply(new MetricBatch([.. Enumerable.Range(0, 30).Select(i => Gauge("noisy", $"m{i}", now.AddSeconds(-30 + i), $"instance-{i % 3}"))], 30, 0));

        Assert.Equal([("real", "pool")], store.Metrics.Series("pool").Select(s => (s.Service, s.Name)));
        Assert.Equal(3, store.Metrics.Names().Count(n => n.StartsWith('m')));
        Assert.Contains("m29", store.Metrics.Names());
        Assert.Equal(27, store.Counters.Snapshot().MetricSeriesEvicted);
    }

    [Fact]
    public void TheQuotaMustFitTheStoresCap()
    {
        var result = new TelemetryStoreOptionsValidator().Validate(null, new TelemetryStoreOptions { MaxQuerySeries = 100, MaxQuerySeriesPerService = 101, MaxStatementsPerService = 0 });

        Assert.Equal(
            ["Telemetry:MaxQuerySeriesPerService must be between 1 and Telemetry:MaxQuerySeries.", "Telemetry:MaxStatementsPerService must be between 1 and Telemetry:MaxStatements."],
            result.Failures!);
    }

    /// <summary>A service's query operations in the store, with their counts.</summary>
    private static SortedDictionary<string, long> Operations(SyntheticTelemetry telemetry, string service) =>
        new(telemetry.Store.Rollups.Rollups(telemetry.Now.AddHours(-1), telemetry.Now.AddMinutes(1))
            .Where(r => r.Key.Service == service)
            .GroupBy(r => r.Key.Operation)
            .ToDictionary(g => g.Key, g => g.Sum(r => r.Durations.Count)), StringComparer.Ordinal);

    private static MetricPoint Gauge(string service, string name, DateTimeOffset time, string instance) => new()
    {
        Service = service,
        Instance = instance,
        Name = name,
        Kind = MetricKind.Gauge,
        TimeUnixNanos = Nanos(time),
        Value = 1,
    };
}
