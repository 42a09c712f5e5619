using System.Net;
using System.Text.Json;
using Npgsql;

namespace NexusCore.PerfApi.Tests.Features.Alerts;

/// <summary>
/// A real Npgsql pool of four connections, held by the test, with its metrics exported to PerfApi: its figures
/// must be exactly what the test holds, and holding all four must raise the pool alert until they are released.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class PoolAlertTests(PerfApiStack stack)
{
    private const string PoolName = "perf-tests-pool";

    private readonly PerfApiClient _perf = new(stack);

    [Fact]
    public async Task AHeldPoolIsReportedExactlyAndSaturatingItAlertsUntilItIsReleased()
    {
        using var telemetry = new TestTelemetry(stack, "pool");
        await using var dataSource = await ClientsDb.OpenAsync(stack, PoolName, maxPoolSize: 4);
        var held = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                held.Add(await dataSource.OpenConnectionAsync());
            }

            var pool = await Eventually.WaitAsync(async () => PoolOf(await _perf.GetAsync("/api/v1/performance/metrics"), telemetry.Service, active: 3),
                "three connections in use in metrics");
            Assert.Equal((PoolName, 3L, 0L, 1L, 4L), (pool.Text("name"), pool.Long("active"), pool.Long("idle"), pool.Long("available"), pool.Long("max")));
            Assert.Equal(75.0, pool.Number("utilizationPercent"), 9);

            var health = await _perf.GetAsync("/api/v1/performance/health/details");
            var totals = health.GetProperty("connectionPool");
            Assert.True(totals.Long("active") >= 3 && totals.Long("max") >= 4 && totals.Long("pools") >= 1);
            Assert.Equal(100.0 * totals.Long("active") / totals.Long("max"), totals.Number("utilizationPercent"), 9);
            Assert.Equal(totals.Long("max") - totals.Long("active"), totals.Long("available"));

            held.Add(await dataSource.OpenConnectionAsync());

            var alert = await Eventually.WaitAsync(async () => AlertOf((await _perf.GetAsync("/api/v1/performance/alerts")).Items("active"), telemetry.Service),
                "the pool alert to start", TimeSpan.FromSeconds(20));
            Assert.Equal(("poolUtilization", 100.0, 90.0, "%"), (alert.Text("kind"), alert.Number("value"), alert.Number("threshold"), alert.Text("unit")));

            var (status, degraded) = await HealthAsync();
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("degraded", degraded.Text("status"));
            Assert.Contains(degraded.Items("reasons"), r => r.GetString()!.StartsWith("alert poolUtilization is active", StringComparison.Ordinal) && r.GetString()!.Contains(telemetry.Service, StringComparison.Ordinal));
            Assert.NotNull(AlertOf(degraded.Items("activeAlerts"), telemetry.Service));

            // The alert's subject is built from telemetry (the sender's service name): anonymous callers get the word alone.
            var anonymous = await stack.CreateClient("perf-api").GetAsync("/api/v1/performance/health");
            Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
            Assert.Equal(Health.HealthTests.StatusOnly("degraded"), await anonymous.Content.ReadAsStringAsync());

            var recommendations = await _perf.GetAsync("/api/v1/performance/optimization/recommendations?window=5m");
            var advice = recommendations.Items("recommendations").Single(r => r.Text("rule") == "pool_saturation" && r.Text("title").Contains(telemetry.Service, StringComparison.Ordinal));
            Assert.Equal(("connectionPool", "high", "DB_POOL_SIZE=6"), (advice.Text("category"), advice.Text("priority"), advice.Text("action")));
            Assert.Equal((100.0, 4.0, 4.0), (advice.GetProperty("evidence").Number("peakUtilizationPercent"), advice.GetProperty("evidence").Number("peakActive"), advice.GetProperty("evidence").Number("max")));
            Assert.NotNull(AlertOf(recommendations.Items("activeAlerts"), telemetry.Service));
        }
        finally
        {
            foreach (var connection in held)
            {
                await connection.DisposeAsync();
            }
        }

        var stopped = await Eventually.WaitAsync(async () =>
            (await _perf.GetAsync("/api/v1/performance/alerts")).Items("recent")
                .Select(t => (JsonElement?)t)
                .FirstOrDefault(t => t!.Value.Text("state") == "stopped" && t.Value.Text("subject").Contains(telemetry.Service, StringComparison.Ordinal)),
            "the pool alert to stop", TimeSpan.FromSeconds(20));
        Assert.Equal("poolUtilization", stopped.Text("kind"));
        Assert.Null(AlertOf((await _perf.GetAsync("/api/v1/performance/alerts")).Items("active"), telemetry.Service));
    }

    private async Task<(HttpStatusCode, JsonElement)> HealthAsync()
    {
        var response = await _perf.Http.GetAsync("/api/v1/performance/health/details");
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static JsonElement? PoolOf(JsonElement metrics, string service, long active) =>
        metrics.GetProperty("connectionPool").Items("pools").Select(p => (JsonElement?)p)
            .FirstOrDefault(p => p!.Value.Text("service") == service && p.Value.Text("name") == PoolName && p.Value.Long("active") == active);

    private static JsonElement? AlertOf(IEnumerable<JsonElement> alerts, string service) =>
        alerts.Select(a => (JsonElement?)a).FirstOrDefault(a => a!.Value.Text("kind") == "poolUtilization" && a.Value.Text("subject").Contains(service, StringComparison.Ordinal));
}
