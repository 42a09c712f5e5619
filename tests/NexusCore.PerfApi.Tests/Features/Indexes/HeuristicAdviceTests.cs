using Microsoft.Extensions.Logging.Abstractions;
using NexusCore.PerfApi.Features.Indexes.Advisor;
using NexusCore.PerfApi.Tests.Telemetry;

namespace NexusCore.PerfApi.Tests.Features.Indexes;

/// <summary>
/// The analysis itself, run directly against clientsdb: without HypoPG (as on a managed Postgres that lacks it)
/// the advice is labelled heuristic and claims no cost after; statements only PerfApi's telemetry saw count too.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class HeuristicAdviceTests(StackFixture stack)
{
    [Fact]
    public async Task WithoutHypoPgTheAdviceIsHeuristicAndStatementsSeenOnlyInTelemetryAreAnalysedToo()
    {
        await using var table = await TestTable.CreateAsync(stack.ClientsDb, "ix_adv_heuristic", 200_000);
        var sql = $"SELECT id FROM {table.Name} WHERE lookup = $1";
        await table.RunAsync(sql, Enumerable.Range(1, 10).Select(i => new[] { TestTable.Lookup(i) }));

        // A statement a service reported in its spans (a literal, normalized to ?) that never ran here.
        var (store, clock) = StoreFixtures.Create();
        var reported = $"SELECT pad FROM {table.Name} WHERE other = 42";
        store.Apply(StoreFixtures.Batch(Enumerable.Range(0, 10)
            .Select(_ => StoreFixtures.Sql(clock.GetUtcNow(), TimeSpan.FromMilliseconds(30), reported, service: "reports"))
            .ToArray()));

        await using var db = await ClientsDb.OpenAsync(stack, "index-advisor-heuristic");
        await using var connections = new AdvisorConnections(await stack.ConnectionStringAsync("clientsdb"));
        var analyzer = new IndexAnalyzer(db, connections, store, clock, NullLogger<IndexAnalyzer>.Instance);

        var heuristic = await analyzer.AnalyzeAsync(new IndexAdvisorOptions { UseHypoPg = false }, TimeSpan.FromSeconds(1), CancellationToken.None);

        Assert.False(heuristic.HypoPgAvailable);
        Assert.Contains("heuristic", heuristic.HypoPgDetail, StringComparison.Ordinal);
        var lookup = Single(heuristic, table, "lookup");
        Assert.Equal(IndexProof.Heuristic, lookup.Proof);
        Assert.True(lookup.CostBefore > 0);
        Assert.Null(lookup.CostAfter);
        Assert.Null(lookup.SavingPercent);
        Assert.Equal((sql, ObservedStatement.PgStatStatements), (lookup.Queries[0].Query, lookup.Queries[0].Source));
        var other = Single(heuristic, table, "other");
        var seen = Assert.Single(other.Queries);
        Assert.Equal(($"SELECT pad FROM {table.Name} WHERE other = ?", ObservedStatement.Telemetry, "reports", 10L), (seen.Query, seen.Source, seen.Service, seen.Calls));
        Assert.Equal(30, seen.MeanMs, 3);

        var proven = await analyzer.AnalyzeAsync(new IndexAdvisorOptions(), TimeSpan.FromSeconds(1), CancellationToken.None);

        Assert.True(proven.HypoPgAvailable);
        var provenOther = Single(proven, table, "other");
        Assert.Equal(IndexProof.Hypopg, provenOther.Proof);
        Assert.True(provenOther.CostAfter < provenOther.CostBefore / 2, $"{provenOther.CostBefore} → {provenOther.CostAfter}");
        Assert.Equal(ObservedStatement.Telemetry, Assert.Single(provenOther.Queries).Source);
    }

    private static IndexRecommendation Single(IndexAnalysis analysis, TestTable table, string column) =>
        Assert.Single(analysis.Recommendations, r => r.Table == table.Name && r.Columns.SequenceEqual([column]));
}
