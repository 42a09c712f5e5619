namespace NexusCore.PerfApi.Tests.Features.Indexes;

/// <summary>
/// An index is proposed for retirement only after the application's statements on its table were re-planned: one
/// that no plan reads is proposed with the statements checked; one a plan reads is kept, whatever its counters say.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class RetirementProofTests(PerfApiStack stack)
{
    private readonly PerfApiClient _reader = new(stack);

    [Fact]
    public async Task AnIndexNoPlanReadsIsProposedWithTheStatementsCheckedAndOneAPlanReadsIsNot()
    {
        await using var table = await TestTable.CreateAsync(stack, "ix_proof", 200_000,
            "CREATE INDEX ix_{t}_lookup ON {t} (lookup)",
            "CREATE INDEX ix_{t}_pad ON {t} (pad)",
            "CREATE INDEX ix_{t}_other ON {t} (other)",
            "CREATE INDEX ix_{t}_other_pad ON {t} (other, pad)");
        var byLookup = $"SELECT id FROM {table.Name} WHERE lookup = $1";
        var byOther = $"SELECT id FROM {table.Name} WHERE other = $1";
        await table.RunAsync(byLookup, Enumerable.Range(1, 10).Select(i => new[] { TestTable.Lookup(i) }));
        await table.RunAsync(byOther, Enumerable.Range(1, 10).Select(i => new[] { TestTable.Other(i) }));
        var lookupScans = await table.ScalarAsync<long>("SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = $1", $"ix_{table.Name}_lookup");
        const string path = "/api/v1/performance/indexes?refresh=true&unusedWindowSeconds=1";

        // PerfApi first sees the indexes here; once a window of 1 s has gone by without scans the counters call
        // every one of them unused, and an analysis since then has re-planned the statements above.
        var since = DateTimeOffset.UtcNow;
        await _reader.GetAsync(path);
        var page = await Eventually.WaitAsync(async () =>
        {
            var read = await _reader.GetAsync(path);
            return read.GetProperty("analyzedAt").GetDateTimeOffset() > since.AddSeconds(1)
                && read.Retired($"ix_{table.Name}_pad") is { } pad && pad.Text("proof") == "proven" ? read : null;
        }, "the unused index, proven by plans", TimeSpan.FromMinutes(1));

        var unused = page.Retired($"ix_{table.Name}_pad")!.Value;
        Assert.Equal(["unused"], unused.Strings("reasons"));
        Assert.Equal([byLookup, byOther], unused.Strings("statementsChecked").Order(StringComparer.Ordinal));
        Assert.Empty(unused.Items("usedBy"));
        Assert.Equal($"CREATE INDEX CONCURRENTLY ix_{table.Name}_pad ON public.{table.Name} USING btree (pad)", unused.Text("undo"));
        Assert.True(unused.Long("sizeBytes") > 0);

        // Not a scan since: the counters say unused, the plan of byLookup reads it, so it is not proposed.
        Assert.Equal(lookupScans, await table.ScalarAsync<long>("SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = $1", $"ix_{table.Name}_lookup"));
        Assert.Null(page.Retired($"ix_{table.Name}_lookup"));

        // A prefix of another index: proven when no plan reads it; when one does (the planner picks between the two
        // by cost), it is not proven, since HypoPG 1.3.1 cannot show the plan without it, and not called unused.
        var prefix = page.Retired($"ix_{table.Name}_other")!.Value;
        Assert.Contains("prefix", prefix.Strings("reasons"));
        Assert.Contains(byOther, prefix.Strings("statementsChecked"));
        var readByAPlan = prefix.Items("usedBy").Any();
        Assert.Equal(readByAPlan ? "notProven" : "proven", prefix.Text("proof"));
        Assert.Equal(!readByAPlan, prefix.Strings("reasons").Contains("unused"));
    }
}
