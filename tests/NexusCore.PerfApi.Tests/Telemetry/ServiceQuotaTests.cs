using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Store;
using static NexusCore.PerfApi.Tests.Telemetry.StoreFixtures;

namespace NexusCore.PerfApi.Tests.Telemetry;

/// <summary>Per-service quotas: a noisy service churns through its own series and never keeps another's out.</summary>
public sealed class ServiceQuotaTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    [Fact]
    public void AtItsQuotaAServicesNewSeriesReplacesItsOwnLeastRecentlySeen()
    {
        var (store, clock) = Create(o => (o.MaxQuerySeries, o.MaxQuerySeriesPerService) = (10, 3));
        var now = clock.GetUtcNow();
        store.Apply(Batch(
            Query(now.AddSeconds(-5), Ms, operation: "real", service: "real"),
            Query(now.AddSeconds(-4), Ms, operation: "a", service: "noisy"),
            Query(now.AddSeconds(-3), Ms, operation: "b", service: "noisy"),
            Query(now.AddSeconds(-2), Ms, operation: "c", service: "noisy"),
            Query(now.AddSeconds(-1), Ms, operation: "a", service: "noisy"),
            Query(now, Ms, operation: "d", service: "noisy")));

        Assert.Equal(["a", "c", "d"], Operations(store, "noisy"));
        Assert.Equal(["real"], Operations(store, "real"));
        Assert.Equal(1, store.Counters.Snapshot().QuerySeriesEvicted);
        Assert.Equal(4, store.Queries.Count);
    }

    [Fact]
    public void WhenTheStoreIsFullAServiceUnderItsQuotaTakesTheRoomOfTheServiceHoldingTheMost()
    {
        var (store, clock) = Create(o => (o.MaxQuerySeries, o.MaxQuerySeriesPerService) = (6, 4));
        var now = clock.GetUtcNow();
        store.Apply(Batch(
            Query(now.AddSeconds(-9), Ms, operation: "x", service: "real"),
            Query(now.AddSeconds(-8), Ms, operation: "y", service: "other")));

        // Four noisy series fill the store after the two real ones; they are seen after the real ones, and often.
        for (var round = 0; round < 3; round++)
        {
            store.Apply(Batch([.. "abcd".Select((op, i) => Query(now.AddSeconds(-7 + i), Ms, operation: op.ToString(), service: "noisy"))]));
        }

        store.Apply(Batch(Query(now, Ms, operation: "z", service: "real")));

        Assert.Equal(["x", "z"], Operations(store, "real"));
        Assert.Equal(["y"], Operations(store, "other"));
        Assert.Equal(["b", "c", "d"], Operations(store, "noisy"));
        Assert.Equal(3, store.Queries.List(Hour, new QueryFilter(Service: "noisy", Operation: "b")).Single().Stats.Count);
        Assert.Equal(1, store.Counters.Snapshot().QuerySeriesEvicted);
        Assert.Equal(6, store.Queries.Count);
    }

    [Fact]
    public void AFloodOfNewSeriesFromOneServiceLeavesEveryOtherServicesSeriesInPlace()
    {
        // Three noisy services could hold 48 series: more than the store has room for beside the real ten.
        var (store, clock) = Create(o => (o.MaxQuerySeries, o.MaxQuerySeriesPerService) = (50, 16));
        var now = clock.GetUtcNow();
        var real = Enumerable.Range(0, 10).Select(i => Query(now.AddSeconds(-30), Ms, operation: $"real-{i}", service: "clients-api")).ToArray();
        store.Apply(Batch(real));

        for (var i = 0; i < 5000; i++)
        {
            store.Apply(Batch(Query(now, Ms, operation: Guid.NewGuid().ToString("N"), service: $"hostile-{i % 3}")));
        }

        store.Apply(Batch(real));

        Assert.Equal(10, Operations(store, "clients-api").Count);
        Assert.All(store.Queries.List(Hour, new QueryFilter(Service: "clients-api")), s => Assert.Equal(2, s.Stats.Count));
        Assert.Equal(50, store.Queries.Count);
        Assert.Equal(5000 - 40, store.Counters.Snapshot().QuerySeriesEvicted);
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

    private static List<string> Operations(TelemetryStore store, string service) =>
        store.Queries.List(Hour, new QueryFilter(Service: service)).Select(s => s.Key.Operation).Order().ToList();

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
