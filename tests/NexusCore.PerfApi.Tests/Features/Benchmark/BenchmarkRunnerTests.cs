using System.Net;
using System.Net.Http.Json;
using NexusCore.PerfApi.Benchmark;
using NexusCore.PerfApi.Features.Benchmark;
using NexusCore.PerfApi.Tests.ClientsApi;

namespace NexusCore.PerfApi.Tests.Features.Benchmark;

[NoStack]
public sealed class BenchmarkRunnerTests
{
    private static readonly RatingThresholds Ratings = new(50, 200);

    [Fact]
    public async Task EachOperationSendsItsRequestsWithTheReaderKeyAndCountsAnswersAndErrors()
    {
        var handler = new StubHandler((request, _) =>
        {
            var path = request.RequestUri!.PathAndQuery;
            var response = path.StartsWith("/api/v1/clients?", StringComparison.Ordinal)
                ? new HttpResponseMessage(HttpStatusCode.OK) { Content = JsonContent.Create(new { items = new[] { new { id = 7, name = "Ada Lovelace" }, new { id = 9, name = "Alan Turing" } } }) }
                : path == "/api/v1/optimized/clients/dashboard"
                    ? new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
                    : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{}") };
            response.Headers.Add("X-Cache", "HIT");
            return Task.FromResult(response);
        });
        var plan = new BenchmarkPlan(TimeSpan.FromSeconds(10), 6, 2, BenchmarkOperations.All, Ratings);

        var results = await new BenchmarkRunner(TimeProvider.System).TryRunAsync(ClientsApiClientTests.Client(handler), "reader-key", plan, CancellationToken.None);

        Assert.NotNull(results);
        Assert.Equal(BenchmarkOperations.Names, results.Select(r => r.Operation));
        Assert.All(results, r => Assert.Equal(6, r.Requests));
        var dashboard = results[0];
        Assert.Equal((6, BenchmarkRating.Poor), (dashboard.Errors, dashboard.Rating));
        Assert.Equal(6, dashboard.StatusCodes["503"]);
        Assert.All(results.Skip(1), r => Assert.Equal((0, 6), (r.Errors, r.StatusCodes["200"])));
        Assert.All(results, r => Assert.True(r.P50Ms <= r.P95Ms && r.P95Ms <= r.P99Ms && r.P99Ms <= r.MaxMs));
        Assert.Equal(6, results[1].Cache["HIT"]);

        var sent = handler.Requests.Select(r => r.RequestUri!.PathAndQuery).ToList();
        Assert.All(handler.Requests, r => Assert.Equal("reader-key", Assert.Single(r.Headers.GetValues("X-Api-Key"))));
        Assert.Contains("/api/v1/clients/7", sent);
        Assert.Contains("/api/v1/clients/9", sent);
        Assert.Contains("/api/v1/optimized/clients/search/advanced?limit=20&q=Ada", sent);
        Assert.Contains("/api/v1/optimized/clients/search/advanced?limit=20&q=Alan", sent);
        Assert.Equal(6, sent.Count(p => p == "/api/v1/optimized/clients/by-ids"));
    }

    [Fact]
    public async Task OperationsThatReadClientsAreSkippedWhenThereAreNone()
    {
        var handler = new StubHandler((request, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = JsonContent.Create(new { items = Array.Empty<object>() }) }));
        var plan = new BenchmarkPlan(TimeSpan.FromSeconds(5), 2, 1, BenchmarkOperations.All.Where(o => o.Name is "get_by_id" or "analytics").ToList(), Ratings);

        var results = await new BenchmarkRunner(TimeProvider.System).TryRunAsync(ClientsApiClientTests.Client(handler), "reader-key", plan, CancellationToken.None);

        Assert.Equal("ClientsApi returned no client to read.", results![0].Skipped);
        Assert.Equal((0, (BenchmarkRating?)null), (results[0].Requests, results[0].Rating));
        Assert.Equal(2, results[1].Requests);
    }

    [Fact]
    public async Task AnOperationStopsWhenItsShareOfTheTimeIsUp()
    {
        var handler = new StubHandler(async (_, ct) =>
        {
            await Task.Delay(100, ct);
            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        var plan = new BenchmarkPlan(TimeSpan.FromSeconds(0.5), 1000, 1, BenchmarkOperations.All.Where(o => o.Name == "dashboard").ToList(), Ratings);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();

        var result = Assert.Single((await new BenchmarkRunner(TimeProvider.System).TryRunAsync(ClientsApiClientTests.Client(handler), "reader-key", plan, CancellationToken.None))!);

        // Time, not the 1,000 requests, ended it: at most one request started after 0.5 s of 100 ms requests.
        Assert.InRange(result.Requests, 1, 6);
        Assert.InRange(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, 0.4, 0.5 + BenchmarkRunner.Grace.TotalSeconds);
    }

    [Fact]
    public async Task ASecondBenchmarkIsRefusedWhileOneRuns()
    {
        var release = new TaskCompletionSource();
        var handler = new StubHandler(async (_, _) =>
        {
            await release.Task;
            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        var runner = new BenchmarkRunner(TimeProvider.System);
        var plan = new BenchmarkPlan(TimeSpan.FromSeconds(5), 1, 1, BenchmarkOperations.All.Where(o => o.Name == "dashboard").ToList(), Ratings);

        var first = runner.TryRunAsync(ClientsApiClientTests.Client(handler), "reader-key", plan, CancellationToken.None);
        var second = await runner.TryRunAsync(ClientsApiClientTests.Client(handler), "reader-key", plan, CancellationToken.None);
        release.SetResult();

        Assert.Null(second);
        Assert.Equal(1, Assert.Single((await first)!).Requests);
        Assert.NotNull(await runner.TryRunAsync(ClientsApiClientTests.Client(handler), "reader-key", plan, CancellationToken.None));
    }

    [Theory]
    [InlineData(50.0, 0, BenchmarkRating.Excellent)]
    [InlineData(50.1, 0, BenchmarkRating.Good)]
    [InlineData(200.0, 0, BenchmarkRating.Good)]
    [InlineData(200.1, 0, BenchmarkRating.Poor)]
    [InlineData(1.0, 1, BenchmarkRating.Poor)]
    public void ARatingFollowsTheP95ThresholdsAndAnyErrorMakesItPoor(double p95, int errors, BenchmarkRating rating) =>
        Assert.Equal(rating, BenchmarkRunner.Rate(p95, errors, Ratings));

    [Fact]
    public void PercentilesAreExactNearestRank()
    {
        var sorted = Enumerable.Range(1, 20).Select(i => (double)i).ToList();

        Assert.Equal((10.0, 19.0, 20.0), (BenchmarkRunner.Percentile(sorted, 0.5)!.Value, BenchmarkRunner.Percentile(sorted, 0.95)!.Value, BenchmarkRunner.Percentile(sorted, 0.99)!.Value));
        Assert.Null(BenchmarkRunner.Percentile([], 0.5));
    }

    [Fact]
    public void RequestValuesOutsideTheConfiguredBoundsNameTheirField()
    {
        var validator = new Validator(Microsoft.Extensions.Options.Options.Create(new BenchmarkOptions()));

        var errors = validator.Validate(new Request { DurationSeconds = 11, RequestsPerOperation = 0, Concurrency = 9, Operations = ["dashboard", "export"] }).Errors;

        // FastEndpoints names failures in the JSON naming policy (camel case); the validator alone, by the property.
        Assert.Equal(
            [("durationSeconds", "duration_out_of_range"), ("requestsPerOperation", "requests_out_of_range"), ("concurrency", "concurrency_out_of_range"), ("operations", "operation_unknown")],
            errors.Select(e => (System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(e.PropertyName), e.ErrorCode)));
        Assert.True(validator.Validate(new Request { DurationSeconds = 10, Operations = ["search"] }).IsValid);
    }

    [Fact]
    public void OperationsAreBoundedByTheOperationsThereAre()
    {
        var validator = new Validator(Microsoft.Extensions.Options.Options.Create(new BenchmarkOptions()));

        var tooMany = validator.Validate(new Request { Operations = [.. Enumerable.Repeat("search", BenchmarkOperations.Names.Count + 1)] }).Errors;
        var empty = validator.Validate(new Request { Operations = [] }).Errors;

        Assert.Equal("operations_too_many", Assert.Single(tooMany).ErrorCode);
        Assert.Equal("operations_empty", Assert.Single(empty).ErrorCode);
        Assert.True(validator.Validate(new Request { Operations = [.. BenchmarkOperations.Names] }).IsValid);
    }
}
