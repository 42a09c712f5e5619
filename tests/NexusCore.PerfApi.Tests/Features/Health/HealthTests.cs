using System.Net;
using System.Text.Json;

namespace NexusCore.PerfApi.Tests.Features.Health;

/// <summary>
/// <c>/health</c> tells anyone the status word and nothing else; <c>/health/details</c> tells readers why, with
/// the dependencies' latencies and errors, recent query figures, pools and alerts.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class HealthTests(PerfApiStack stack)
{
    private const string Health = "/api/v1/performance/health";
    private const string Details = "/api/v1/performance/health/details";

    private readonly HttpClient _anonymous = stack.CreateClient("perf-api");
    private readonly HttpClient _reader = stack.CreateClient("perf-api", "reader");

    [Fact]
    public async Task DetailsReportPostgresAndRedisHealthyWithTheirLatenciesAndTheAnonymousAnswerOnlyTheSameStatus()
    {
        var (status, health) = await GetDetailsAsync();
        var (anonymousStatus, anonymousBody) = await GetAnonymousAsync();

        Assert.Equal(HttpStatusCode.OK, status);
        // Another test may have left an alert running (a query that waited on a stopped Postgres is a slow
        // query for a minute): then health is degraded by that alert alone, never by a dependency.
        var alerts = health.GetProperty("activeAlerts").GetArrayLength();
        var word = alerts == 0 ? "healthy" : "degraded";
        Assert.Equal(word, health.GetProperty("status").GetString());
        Assert.Equal(alerts, health.GetProperty("reasons").GetArrayLength());
        Assert.All(health.GetProperty("reasons").EnumerateArray(), r => Assert.StartsWith("alert ", r.GetString()));
        Assert.True(health.GetProperty("responseTimeMs").GetDouble() > 0);
        foreach (var dependency in new[] { "postgres", "redis" })
        {
            var entry = health.GetProperty("dependencies").GetProperty(dependency);
            Assert.Equal("healthy", entry.GetProperty("status").GetString());
            Assert.InRange(entry.GetProperty("latencyMs").GetDouble(), 0.001, 2000);
        }

        Assert.Equal(HttpStatusCode.OK, anonymousStatus);
        // An alert may start or stop between the two calls; the shape may not change.
        Assert.Contains(anonymousBody, new[] { StatusOnly("healthy"), StatusOnly("degraded") });
    }

    [Fact]
    public async Task DetailsSummarizeFiveMinutesOfQueriesAndShowClientsApisPoolAtItsConfiguredSize()
    {
        // ClientsApi's Npgsql pool reports through its metrics export; its maximum is DB_POOL_SIZE (default 50).
        var perf = new PerfApiClient(stack);
        var clientsPool = await Eventually.WaitAsync(async () =>
            (await perf.GetAsync("/api/v1/performance/metrics")).GetProperty("connectionPool").Items("pools")
                .Select(p => (JsonElement?)p).FirstOrDefault(p => p!.Value.Text("service") == "clients-api"),
            "ClientsApi's connection pool in metrics", TimeSpan.FromSeconds(30));
        Assert.Equal(50, clientsPool.Long("max"));
        Assert.InRange(clientsPool.Long("active"), 0, 50);
        Assert.Equal(50 - clientsPool.Long("active"), clientsPool.Long("available"));

        var (_, health) = await GetDetailsAsync();

        var summary = health.GetProperty("summary");
        Assert.Equal(300, summary.Number("windowSeconds"));
        Assert.True(summary.Long("recentQueries") >= 0);
        var pool = health.GetProperty("connectionPool");
        Assert.True(pool.Long("max") >= 50 && pool.Long("pools") >= 1);
        Assert.Equal(JsonValueKind.Array, health.GetProperty("activeAlerts").ValueKind);
    }

    [Theory]
    [InlineData(Health, null)]
    [InlineData(Details, "reader")]
    public async Task AnUnknownParameterIsA400(string route, string? role)
    {
        var problem = await Problem.ReadAsync(await stack.CreateClient("perf-api", role).GetAsync($"{route}?full=1"), HttpStatusCode.BadRequest);

        Assert.Equal("full", Assert.Single(problem.Errors).Name);
    }

    [Fact]
    public async Task RedisDownIsDegradedNamingRedisInTheDetailsWhileTheAnonymousAnswerIsTheStatusWordAlone()
    {
        await stack.StopResourceAsync("cache");
        try
        {
            var (status, health) = await GetDetailsAsync();
            var (anonymousStatus, anonymousBody) = await GetAnonymousAsync();

            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("degraded", health.GetProperty("status").GetString());
            Assert.Contains(health.GetProperty("reasons").EnumerateArray(), r => r.GetString()!.StartsWith("redis is unreachable", StringComparison.Ordinal));
            Assert.Equal("unhealthy", health.GetProperty("dependencies").GetProperty("redis").GetProperty("status").GetString());
            Assert.Equal("healthy", health.GetProperty("dependencies").GetProperty("postgres").GetProperty("status").GetString());

            // The details' error names the server (host:port); the anonymous answer carries no more than the word.
            Assert.Equal(HttpStatusCode.OK, anonymousStatus);
            Assert.Equal(StatusOnly("degraded"), anonymousBody);
        }
        finally
        {
            await stack.StartResourceAsync("cache");
        }

        await WaitUntilAsync(async () => DependenciesHealthy((await GetDetailsAsync()).Health));
    }

    [Fact]
    public async Task PostgresDownIsUnhealthyWith503OnBothRoutesAndRecoversWhenItReturns()
    {
        await stack.StopResourceAsync("postgres");
        try
        {
            var (status, health) = await GetDetailsAsync();
            var (anonymousStatus, anonymousBody) = await GetAnonymousAsync();

            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("unhealthy", health.GetProperty("status").GetString());
            Assert.Contains(health.GetProperty("reasons").EnumerateArray(), r => r.GetString()!.StartsWith("postgres is unreachable", StringComparison.Ordinal));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, anonymousStatus);
            Assert.Equal(StatusOnly("unhealthy"), anonymousBody);
        }
        finally
        {
            await stack.StartResourceAsync("postgres");
        }

        await WaitUntilAsync(async () => DependenciesHealthy((await GetDetailsAsync()).Health));
    }

    /// <summary>The whole anonymous body for a status: one property, the word.</summary>
    public static string StatusOnly(string status) => $$"""{"status":"{{status}}"}""";

    private async Task<(HttpStatusCode Status, JsonElement Health)> GetDetailsAsync()
    {
        var response = await _reader.GetAsync(Details);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement);
    }

    private async Task<(HttpStatusCode Status, string Body)> GetAnonymousAsync()
    {
        var response = await _anonymous.GetAsync(Health);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Both dependencies answer and nothing but alerts (which outlive an outage by their window) holds health back.</summary>
    private static bool DependenciesHealthy(JsonElement health) =>
        health.GetProperty("dependencies").EnumerateObject().All(d => d.Value.GetProperty("status").GetString() == "healthy")
        && health.GetProperty("status").GetString() != "unhealthy"
        && health.GetProperty("reasons").EnumerateArray().All(r => r.GetString()!.StartsWith("alert ", StringComparison.Ordinal));

    private static Task WaitUntilAsync(Func<Task<bool>> condition) =>
        Eventually.ThatAsync(condition, TimeSpan.FromSeconds(30), every: TimeSpan.FromMilliseconds(200));
}
