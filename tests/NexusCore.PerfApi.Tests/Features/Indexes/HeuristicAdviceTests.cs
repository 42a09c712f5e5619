using Microsoft.Extensions.Logging.Abstractions;
using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.PerfApi.Tests.Telemetry;

namespace NexusCore.PerfApi.Tests.Features.Indexes;

/// <summary>
/// The analysis itself, run directly against clientsdb: without HypoPG (as on a managed Postgres that lacks it)
/// the advice is labelled heuristic and claims no cost after; statements PerfApi's telemetry saw only add evidence
/// to the application's statements they match, and one that matches none is not analysed at all.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class HeuristicAdviceTests(PerfApiStack stack)
{
    [Fact]
    public async Task WithoutHypoPgTheAdviceIsHeuristicAndTelemetryOnlyAddsEvidenceToTheStatementsItMatches()
    {
        await using var table = await TestTable.CreateAsync(stack, "ix_adv_heuristic", 200_000);
        var sql = $"SELECT id FROM {table.Name} WHERE lookup = $1";
        await table.RunAsync(sql, Enumerable.Range(1, 10).Select(i => new[] { TestTable.Lookup(i) }));

        // A service reported the same statement (a literal, normalized to ?), and one that never ran here.
        var (store, clock) = StoreFixtures.Create();
        var same = $"SELECT id FROM {table.Name} WHERE lookup = 42";
        var onlyReported = $"SELECT pad FROM {table.Name} WHERE other = 42";
        store.Apply(StoreFixtures.Batch([.. Enumerable.Range(0, 10).SelectMany(_ => new[]
        {
            StoreFixtures.SqlSpan(clock.GetUtcNow(), TimeSpan.FromMilliseconds(30), same, service: "reports"),
            StoreFixtures.SqlSpan(clock.GetUtcNow(), TimeSpan.FromMilliseconds(30), onlyReported, service: "reports"),
        })]));

        await using var db = await ClientsDb.OpenAsync(stack, "index-advisor-heuristic");
        var connectionString = await stack.ConnectionStringAsync("clientsdb");
        await using var connections = new AdvisorConnections(connectionString, connectionString);
        var analyzer = new IndexAnalyzer(db, connections, store, clock, NullLogger<IndexAnalyzer>.Instance);

        var heuristic = await analyzer.AnalyzeAsync(PerfApiStack.AdvisorOptions(useHypoPg: false), TimeSpan.FromSeconds(1), CancellationToken.None);

        Assert.False(heuristic.HypoPgAvailable);
        Assert.Contains("heuristic", heuristic.HypoPgDetail, StringComparison.Ordinal);
        var lookup = Single(heuristic, table, "lookup");
        Assert.Equal(IndexProof.Heuristic, lookup.Proof);
        Assert.True(lookup.CostBefore > 0);
        Assert.Null(lookup.CostAfter);
        Assert.Null(lookup.SavingPercent);
        var evidence = Assert.Single(lookup.Queries);
        Assert.Equal((sql, ObservedStatement.PgStatStatements), (evidence.Query, evidence.Source));
        Assert.True(evidence.Calls >= 10);
        Assert.Equal(["reports"], evidence.Telemetry!.Services);
        Assert.Equal(10, evidence.Telemetry.Calls);
        Assert.Equal(30, evidence.Telemetry.MeanMs, 3);
        Assert.DoesNotContain(heuristic.Recommendations, r => r.Table == table.Name && r.Columns.SequenceEqual(["other"]));
        Assert.DoesNotContain(heuristic.Statements, s => s.Query.Contains("other", StringComparison.Ordinal) && s.Query.Contains(table.Name, StringComparison.Ordinal));
        Assert.True(heuristic.TelemetryUnmatched >= 1);

        var proven = await analyzer.AnalyzeAsync(PerfApiStack.AdvisorOptions(), TimeSpan.FromSeconds(1), CancellationToken.None);

        Assert.True(proven.HypoPgAvailable);
        var provenLookup = Single(proven, table, "lookup");
        Assert.Equal(IndexProof.Hypopg, provenLookup.Proof);
        Assert.True(provenLookup.CostAfter < provenLookup.CostBefore / 2, $"{provenLookup.CostBefore} → {provenLookup.CostAfter}");
        Assert.Equal("reports", Assert.Single(Assert.Single(provenLookup.Queries).Telemetry!.Services));
    }

    private static IndexRecommendation Single(IndexAnalysis analysis, TestTable table, string column) =>
        Assert.Single(analysis.Recommendations, r => r.Table == table.Name && r.Columns.SequenceEqual([column]));
}
