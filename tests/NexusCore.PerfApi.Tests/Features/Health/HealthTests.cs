using System.Net;
using System.Text.Json;

namespace NexusCore.PerfApi.Tests.Features.Health;

[Collection(StackCollection.Name)]
public sealed class HealthTests(StackFixture stack)
{
    private readonly HttpClient _http = stack.CreateClient("perf-api");

    [Fact]
    public async Task HealthReportsPostgresAndRedisHealthyWithTheirLatencies()
    {
        var (status, health) = await GetHealthAsync();

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("healthy", health.GetProperty("status").GetString());
        Assert.Empty(health.GetProperty("reasons").EnumerateArray());
        Assert.True(health.GetProperty("responseTimeMs").GetDouble() > 0);
        foreach (var dependency in new[] { "postgres", "redis" })
        {
            var entry = health.GetProperty("dependencies").GetProperty(dependency);
            Assert.Equal("healthy", entry.GetProperty("status").GetString());
            Assert.InRange(entry.GetProperty("latencyMs").GetDouble(), 0.001, 2000);
        }
    }

    [Fact]
    public async Task RedisDownIsDegradedNamingRedisAndRecoversWhenItReturns()
    {
        await stack.StopResourceAsync("cache");
        try
        {
            var (status, health) = await GetHealthAsync();

            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("degraded", health.GetProperty("status").GetString());
            Assert.Contains(health.GetProperty("reasons").EnumerateArray(), r => r.GetString()!.StartsWith("redis is unreachable", StringComparison.Ordinal));
            Assert.Equal("unhealthy", health.GetProperty("dependencies").GetProperty("redis").GetProperty("status").GetString());
            Assert.Equal("healthy", health.GetProperty("dependencies").GetProperty("postgres").GetProperty("status").GetString());
        }
        finally
        {
            await stack.StartResourceAsync("cache");
        }

        await WaitUntilAsync(async () => (await GetHealthAsync()).Health.GetProperty("status").GetString() == "healthy");
    }

    [Fact]
    public async Task PostgresDownIsUnhealthyWith503AndRecoversWhenItReturns()
    {
        await stack.StopResourceAsync("postgres");
        try
        {
            var (status, health) = await GetHealthAsync();

            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("unhealthy", health.GetProperty("status").GetString());
            Assert.Contains(health.GetProperty("reasons").EnumerateArray(), r => r.GetString()!.StartsWith("postgres is unreachable", StringComparison.Ordinal));
        }
        finally
        {
            await stack.StartResourceAsync("postgres");
        }

        await WaitUntilAsync(async () => (await GetHealthAsync()).Health.GetProperty("status").GetString() == "healthy");
    }

    private async Task<(HttpStatusCode Status, JsonElement Health)> GetHealthAsync()
    {
        var response = await _http.GetAsync("/api/v1/performance/health");
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), deadline.Token);
        }
    }
}
