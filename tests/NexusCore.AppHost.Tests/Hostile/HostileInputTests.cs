using NexusCore.Testing.Hostile;

namespace NexusCore.AppHost.Tests.Hostile;

/// <summary>
/// Every request of the hostile corpus (<see cref="HostileCorpus"/>), ClientsApi's and PerfApi's, against the whole
/// stack: each gets a 4xx problem document (the one it states) and writes nothing.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class HostileInputTests(StackFixture stack)
{
    public static TheoryData<HostileCase> Corpus => HostileCorpus.For("clients-api", "perf-api");

    [Fact]
    public void TheCorpusHoldsAtLeastTwoHundredCasesCoveringEveryRoute()
    {
        var cases = HostileCorpus.Cases;

        Assert.True(cases.Count >= 200, $"{cases.Count} cases");
        Assert.Equal(cases.Count, Corpus.Cast<object[]>().Count());
        foreach (var route in new[]
        {
            "/api/v1/clients", "/api/v1/clients/", "/api/v1/optimized/clients/dashboard", "/api/v1/optimized/clients/search/advanced",
            "/api/v1/optimized/clients/batch", "/api/v1/optimized/clients/analytics/performance", "/api/v1/optimized/clients/bulk-export",
            "/api/v1/optimized/clients/by-ids", "/api/v1/cache/", "/v1/traces", "/v1/metrics", "/api/v1/performance/",
        })
        {
            Assert.Contains(cases, c => c.Path.StartsWith(route, StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public Task AHostileRequestGetsA4xxProblemAndWritesNothing(HostileCase hostile) => HostileCorpus.AssertRefusedAsync(stack, hostile);
}
