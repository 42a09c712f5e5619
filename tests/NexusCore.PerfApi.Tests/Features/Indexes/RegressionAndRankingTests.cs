using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.PerfApi.Tests.Telemetry;

namespace NexusCore.PerfApi.Tests.Features.Indexes;

/// <summary>
/// Regressions (a statement slower over the current window than over its baseline, with the cause seen) and the
/// ranking of advice by the time it would save per hour of current traffic, against the real clientsdb.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class RegressionAndRankingTests(PerfApiStack stack)
{
    private readonly PerfApiClient _reader = new(stack);

    [Fact]
    public async Task AStatementMadeSlowerByDroppingItsIndexIsARegressionNamingTheDroppedIndex()
    {
        await using var table = await TestTable.CreateAsync(stack, "ix_regress", 200_000, "CREATE INDEX ix_{t}_lookup ON {t} (lookup)");
        var sql = $"SELECT max(pad) FROM {table.Name} WHERE lookup = $1";
        await using var db = await ClientsDb.OpenAsync(stack, "index-advisor-regressions");
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var watch = new RegressionWatch(db, clock);
        var options = PerfApiStack.AdvisorOptions();
        options.RegressionWindow = TimeSpan.FromMinutes(1);
        options.RegressionBaseline = TimeSpan.FromMinutes(1);
        options.RegressionMinCalls = 20;

        // Baseline: 20 runs served by the index; current window: 20 runs after it was dropped.
        await watch.SnapshotAsync(options, CancellationToken.None);
        await table.RunAsync(sql, Enumerable.Range(1, 20).Select(i => new[] { TestTable.Lookup(i * 9000) }));
        clock.Advance(TimeSpan.FromMinutes(1));
        await watch.SnapshotAsync(options, CancellationToken.None);
        Assert.DoesNotContain(await watch.EvaluateAsync(options, CancellationToken.None), r => r.Query == sql);
        await table.ExecuteAsync($"DROP INDEX ix_{table.Name}_lookup");
        await table.RunAsync(sql, Enumerable.Range(1, 20).Select(i => new[] { TestTable.Lookup(i * 9001) }));
        clock.Advance(TimeSpan.FromMinutes(1));

        var regression = Assert.Single(await watch.EvaluateAsync(options, CancellationToken.None), r => r.Query == sql);

        Assert.Equal((20, 20), (regression.BaselineCalls, regression.CurrentCalls));
        Assert.True(regression.CurrentMeanMs > regression.BaselineMeanMs * 1.5, $"{regression.BaselineMeanMs} ms → {regression.CurrentMeanMs} ms");
        Assert.True(regression.ChangePercent > 50);
        Assert.Equal((60, 60), (regression.BaselineSeconds, regression.CurrentSeconds));
        var cause = Assert.Single(regression.Causes, c => c.StartsWith("index ", StringComparison.Ordinal));
        Assert.Equal($"index ix_{table.Name}_lookup on {table.Name} was dropped (CREATE INDEX ix_{table.Name}_lookup ON public.{table.Name} USING btree (lookup))", cause);
        Assert.Equal($"re-create the dropped index: CREATE INDEX CONCURRENTLY ix_{table.Name}_lookup ON public.{table.Name} USING btree (lookup)", regression.Recommendation);
    }

    [Fact]
    public async Task AdviceIsRankedByTheStatementTimeItWouldSavePerHourOfCurrentTraffic()
    {
        await using var busy = await TestTable.CreateAsync(stack, "ix_rank_busy", 200_000);
        await using var quiet = await TestTable.CreateAsync(stack, "ix_rank_quiet", 200_000);
        var busySql = $"SELECT id FROM {busy.Name} WHERE other = $1";
        var quietSql = $"SELECT id FROM {quiet.Name} WHERE other = $1";
        // The busy statement first: once a snapshot holds the quiet one, it holds all of the busy one's 60 runs.
        await busy.RunAsync(busySql, Enumerable.Range(1, 60).Select(i => new[] { TestTable.Other(i) }));
        await quiet.RunAsync(quietSql, Enumerable.Range(1, 10).Select(i => new[] { TestTable.Other(i) }));

        var page = await Eventually.WaitAsync(async () =>
        {
            var read = await _reader.RefreshedIndexesAsync();
            return read.Recommendation(busy.Name) is { } b && b.GetProperty("savedMsPerHour").ValueKind == System.Text.Json.JsonValueKind.Number
                && read.Recommendation(quiet.Name) is { } q && q.GetProperty("savedMsPerHour").ValueKind == System.Text.Json.JsonValueKind.Number ? read : null;
        }, "both recommendations with the time they save per hour", TimeSpan.FromMinutes(2));

        var tables = page.Items("recommendations").Select(r => r.Text("table")).Where(t => t == busy.Name || t == quiet.Name).ToList();
        Assert.Equal([busy.Name, quiet.Name], tables);
        var savedBusy = page.Recommendation(busy.Name)!.Value.Number("savedMsPerHour");
        var savedQuiet = page.Recommendation(quiet.Name)!.Value.Number("savedMsPerHour");
        Assert.True(savedBusy > savedQuiet * 2, $"{savedBusy} ms/h against {savedQuiet} ms/h");
        var all = page.Items("recommendations").Select(r => r.NullableNumber("savedMsPerHour") ?? -1).ToList();
        Assert.Equal(all.OrderDescending(), all);
    }
}
