using NexusCore.PerfApi.Store;
using static NexusCore.PerfApi.Tests.Telemetry.StoreFixtures;

namespace NexusCore.PerfApi.Tests.Telemetry;

[NoStack]
public sealed class StatementStoreTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Fact]
    public void StatementsDifferingOnlyInLiteralsAreOneEntryWithCountMeanMaxAndLastSeen()
    {
        var (store, clock) = Create();
        var t0 = clock.GetUtcNow();
        clock.Advance(TimeSpan.FromMinutes(2));
        store.Apply(Batch(
            SqlSpan(t0, TimeSpan.FromMilliseconds(3), "SELECT * FROM clients WHERE status = 'active' LIMIT 10"),
            SqlSpan(t0.AddSeconds(30), TimeSpan.FromMilliseconds(9), "SELECT *  FROM clients\nWHERE status = 'pending' LIMIT 50"),
            SqlSpan(t0.AddSeconds(90), TimeSpan.FromMilliseconds(6), "SELECT * FROM clients WHERE status = 'inactive' LIMIT 10")));

        var statement = Assert.Single(store.Statements.List(new StatementQuery(Hour)));

        Assert.Equal("SELECT * FROM clients WHERE status = ? LIMIT ?", statement.Statement);
        Assert.Equal("clients-api", statement.Service);
        Assert.Equal("SELECT", statement.Verb);
        Assert.Equal("clients", statement.Table);
        Assert.Equal(3, statement.Count);
        Assert.Equal(6, statement.MeanMs, 9);
        Assert.Equal(9, statement.MaxMs, 9);
        Assert.Equal(t0, statement.FirstSeen);
        Assert.Equal(t0.AddSeconds(90), statement.LastSeen);
        Assert.Equal(3, statement.WindowCount);
    }

    [Fact]
    public void TheSlowestRunInTheWindowCarriesItsTraceAndSpanIdsInHex()
    {
        var (store, clock) = Create();
        var t0 = clock.GetUtcNow();
        clock.Advance(TimeSpan.FromMinutes(10));
        var oldSlowTrace = UInt128.Parse("00000000000000000000000000000001", System.Globalization.NumberStyles.HexNumber);
        var recentSlowTrace = UInt128.Parse("4bf92f3577b34da6a3ce929d0e0e4736", System.Globalization.NumberStyles.HexNumber);
        store.Apply(Batch(
            SqlSpan(t0, TimeSpan.FromMilliseconds(500), "SELECT pg_sleep($1)", traceId: oldSlowTrace, spanId: 1),
            SqlSpan(t0.AddMinutes(8), TimeSpan.FromMilliseconds(40), "SELECT pg_sleep($1)", traceId: recentSlowTrace, spanId: 0x00f067aa0ba902b7),
            SqlSpan(t0.AddMinutes(9), TimeSpan.FromMilliseconds(20), "SELECT pg_sleep($1)", traceId: oldSlowTrace, spanId: 2)));

        var lastFiveMinutes = Assert.Single(store.Statements.List(new StatementQuery(TimeSpan.FromMinutes(5))));
        var lastHour = Assert.Single(store.Statements.List(new StatementQuery(Hour)));

        Assert.Equal(2, lastFiveMinutes.WindowCount);
        Assert.Equal(30, lastFiveMinutes.WindowMeanMs, 9);
        Assert.Equal(40, lastFiveMinutes.WindowMaxMs, 9);
        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", lastFiveMinutes.SlowestTraceId);
        Assert.Equal("00f067aa0ba902b7", lastFiveMinutes.SlowestSpanId);
        Assert.Equal(t0.AddMinutes(8), lastFiveMinutes.SlowestAt);
        Assert.Equal("00000000000000000000000000000001", lastHour.SlowestTraceId);
        Assert.Equal(500, lastHour.WindowMaxMs, 9);
        Assert.Equal(500, lastFiveMinutes.MaxMs, 9);
    }

    [Fact]
    public void ThresholdsKeepOnlySlowStatementsSlowestMeanFirst()
    {
        var (store, clock) = Create();
        var now = clock.GetUtcNow();
        store.Apply(Batch(
            SqlSpan(now, TimeSpan.FromMilliseconds(1), "SELECT a FROM fast"),
            SqlSpan(now, TimeSpan.FromMilliseconds(120), "SELECT b FROM slow"),
            SqlSpan(now, TimeSpan.FromMilliseconds(300), "SELECT c FROM slower"),
            SqlSpan(now, TimeSpan.FromMilliseconds(2), "SELECT d FROM spiky"),
            SqlSpan(now, TimeSpan.FromMilliseconds(400), "SELECT d FROM spiky")));

        var byMean = store.Statements.List(new StatementQuery(Hour, MinMean: TimeSpan.FromMilliseconds(100)));
        var byMax = store.Statements.List(new StatementQuery(Hour, MinMax: TimeSpan.FromMilliseconds(350)));
        var top = store.Statements.List(new StatementQuery(Hour, Limit: 1));

        Assert.Equal(["SELECT c FROM slower", "SELECT d FROM spiky", "SELECT b FROM slow"], byMean.Select(s => s.Statement));
        Assert.Equal("SELECT d FROM spiky", Assert.Single(byMax).Statement);
        Assert.Equal("SELECT c FROM slower", Assert.Single(top).Statement);
    }

    [Fact]
    public void AStatementBeyondTheLimitReplacesTheLeastRecentlySeenAndExpiredOnesAreSwept()
    {
        var (store, clock) = Create(o => o.MaxStatements = 2);
        var now = clock.GetUtcNow();
        store.Apply(Batch(
            SqlSpan(now.AddSeconds(-2), TimeSpan.FromMilliseconds(1), "SELECT 1 FROM a"),
            SqlSpan(now.AddSeconds(-1), TimeSpan.FromMilliseconds(1), "SELECT 1 FROM b"),
            SqlSpan(now, TimeSpan.FromMilliseconds(1), "SELECT 1 FROM c")));

        Assert.Equal(2, store.Statements.Count);
        Assert.Equal(["SELECT ? FROM b", "SELECT ? FROM c"], store.Statements.List(new StatementQuery(Hour)).Select(s => s.Statement).Order());
        Assert.Equal(1, store.Counters.Snapshot().StatementsEvicted);

        clock.Advance(TimeSpan.FromMinutes(61));
        store.Sweep();
        store.Apply(Batch(SqlSpan(clock.GetUtcNow(), TimeSpan.FromMilliseconds(1), "SELECT 1 FROM c")));

        Assert.Equal("SELECT ? FROM c", Assert.Single(store.Statements.List(new StatementQuery(Hour))).Statement);
    }

    [Fact]
    public void LogicalQuerySpansDoNotFeedStatementStatistics()
    {
        var (store, clock) = Create();
        store.Apply(Batch(Query(clock.GetUtcNow(), TimeSpan.FromMilliseconds(5))));

        Assert.Empty(store.Statements.List(new StatementQuery(Hour)));
    }
}
