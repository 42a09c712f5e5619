using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace NexusCore.PerfApi.Tests.Features.Benchmark;

[Collection(StackCollection.Name)]
public sealed class BenchmarkTests(PerfApiStack stack)
{
    private readonly PerfApiClient _admin = new(stack, "admin");

    [Fact]
    public async Task ABenchmarkTimesEachClientsApiReadRouteAndRatesIt()
    {
        var writer = stack.CreateClient("clients-api", "writer");
        foreach (var name in new[] { "Donald Knuth", "Margaret Hamilton" })
        {
            var created = await writer.PostAsJsonAsync("/api/v1/clients", new { name, email = $"bench.{Guid.NewGuid():N}@example.com", programType = "PERFORMANCE" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var (status, result) = await _admin.PostAsync("/api/v1/performance/benchmark", new { durationSeconds = 5, requestsPerOperation = 15, concurrency = 2 });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.InRange(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, 0, 5 + 2);
        Assert.Equal((50.0, 200.0), (result.GetProperty("ratingThresholds").Number("excellentP95Ms"), result.GetProperty("ratingThresholds").Number("goodP95Ms")));
        var operations = result.Items("operations").ToList();
        Assert.Equal(["dashboard", "search", "get_by_id", "by_ids", "analytics"], operations.Select(o => o.Text("operation")));
        foreach (var operation in operations)
        {
            Assert.Equal(JsonValueKind.Null, operation.GetProperty("skipped").ValueKind);
            Assert.InRange(operation.Long("requests"), 1, 15);
            Assert.Equal(0, operation.Long("errors"));
            Assert.Equal(operation.Long("requests"), operation.GetProperty("statusCodes").Long("200"));
            Assert.True(operation.Number("minMs") <= operation.Number("p50Ms") && operation.Number("p50Ms") <= operation.Number("p95Ms")
                && operation.Number("p95Ms") <= operation.Number("p99Ms") && operation.Number("p99Ms") <= operation.Number("maxMs"));
            var expected = operation.Number("p95Ms") <= 50 ? "excellent" : operation.Number("p95Ms") <= 200 ? "good" : "poor";
            Assert.Equal(expected, operation.Text("rating"));
        }
    }

    [Fact]
    public async Task ASecondBenchmarkWhileOneRunsIsAConflict()
    {
        // A long run, and short ones asked for while it lasts: whichever reaches PerfApi second gets 409.
        var first = _admin.PostAsync("/api/v1/performance/benchmark",
            new { durationSeconds = 3, requestsPerOperation = 1000, concurrency = 1, operations = new[] { "dashboard", "analytics" } });
        var answers = new List<(HttpStatusCode Status, JsonElement Body)>();
        while (!first.IsCompleted)
        {
            answers.Add(await _admin.PostAsync("/api/v1/performance/benchmark", new { durationSeconds = 0.1, operations = new[] { "dashboard" } }));
        }

        answers.Add(await first);

        var conflict = answers.FirstOrDefault(a => a.Status == HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.Conflict, conflict.Status);
        Assert.Equal("benchmark_running", conflict.Body.Text("code"));
        Assert.Equal("https://nexuscore.dev/problems/conflict", conflict.Body.Text("type"));
        Assert.Contains(answers, a => a.Status == HttpStatusCode.OK);
        Assert.All(answers, a => Assert.Contains(a.Status, new[] { HttpStatusCode.OK, HttpStatusCode.Conflict }));
    }

    [Fact]
    public async Task FieldsLeftOutTakeTheirConfiguredDefaults()
    {
        var response = await _admin.Http.PostAsync("/api/v1/performance/benchmark", JsonContent.Create(new { operations = new[] { "dashboard" }, durationSeconds = 0.5 }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var settings = (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("settings");
        Assert.Equal((50L, 2L), (settings.Long("requestsPerOperation"), settings.Long("concurrency")));
    }

    [Theory]
    [InlineData("""{"durationSeconds":11}""", "durationSeconds", "duration_out_of_range")]
    [InlineData("""{"durationSeconds":0}""", "durationSeconds", "duration_out_of_range")]
    [InlineData("""{"requestsPerOperation":1001}""", "requestsPerOperation", "requests_out_of_range")]
    [InlineData("""{"concurrency":0}""", "concurrency", "concurrency_out_of_range")]
    [InlineData("""{"operations":["export"]}""", "operations", "operation_unknown")]
    [InlineData("""{"duration":5}""", "duration", "unknown_field")]
    [InlineData("""{"durationSeconds":"five"}""", "durationSeconds", "invalid_type")]
    public async Task ABadBodyIsA400NamingTheField(string body, string name, string code)
    {
        var response = await _admin.Http.PostAsync("/api/v1/performance/benchmark", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors, e => e.Name == name && e.Code == code);
    }

    [Fact]
    public async Task ABodyThatIsNotJsonIsA415Problem()
    {
        var response = await _admin.Http.PostAsync("/api/v1/performance/benchmark", new StringContent("durationSeconds=1", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"));

        await Problem.ReadAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("reader", HttpStatusCode.Forbidden)]
    [InlineData("writer", HttpStatusCode.Forbidden)]
    public async Task OnlyTheAdminKeyMayBenchmark(string? role, HttpStatusCode expected)
    {
        var response = await stack.CreateClient("perf-api", role).PostAsync("/api/v1/performance/benchmark", JsonContent.Create(new { }));

        await Problem.ReadAsync(response, expected);
    }
}
