using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using NexusCore.AppHost.Tests.Contract;

namespace NexusCore.AppHost.Tests.Settings;

/// <summary>
/// Every seed setting README lists, changed at once in <see cref="SettingsStack"/>, checked by the behaviour README
/// promises: pool sizes by Npgsql's <c>db.client.connection.max</c> as PerfApi receives it, TTLs by when an entry
/// expires, timeouts by when a blocked write is answered, the slow-query threshold by PerfApi's slow-query list,
/// monitoring by the query histogram's absence, origins by a preflight.
/// </summary>
[Collection(SettingsCollection.Name)]
public sealed class SettingsTakeEffectTests(SettingsStack stack)
{
    [Fact]
    public void EverySettingReadmeListsIsChangedInThisStack()
    {
        var readme = File.ReadAllLines(Path.Combine(OpenApiTools.RepositoryRoot, "README.md"));
        var listed = readme.SkipWhile(l => l != "### Seed settings").Skip(1)
            .SkipWhile(l => !l.StartsWith("| Setting |", StringComparison.Ordinal)).Skip(2)
            .TakeWhile(l => l.StartsWith('|'))
            .Select(l => l.Split('|')[1].Trim().Trim('`'))
            .ToList();

        Assert.NotEmpty(listed);
        Assert.Equal(listed.Except(["CACHE_TTL_ANALYTICS"]).Order(), SettingsStack.Changed.Keys.Order());
    }

    [Theory]
    [InlineData("DB_POOL_SIZE", "clientsdb")]
    [InlineData("DB_LOOKUP_POOL_SIZE", "clientsdb-lookups")]
    [InlineData("DB_WRITE_POOL_SIZE", "clientsdb-writes")]
    public async Task APoolSizeSettingIsThePoolsMaximum(string setting, string pool)
    {
        using var perf = stack.CreateClient("perf-api", "reader");

        var reported = await Eventually.WaitAsync(async () =>
        {
            using var metrics = JsonDocument.Parse(await perf.GetStringAsync("/api/v1/performance/metrics"));
            return metrics.RootElement.GetProperty("connectionPool").GetProperty("pools").EnumerateArray()
                .Where(p => p.GetProperty("service").GetString() == "clients-api" && p.GetProperty("name").GetString() == pool)
                .Select(p => (JsonElement?)p.Clone()).FirstOrDefault();
        }, $"clients-api's pool {pool} in PerfApi's metrics", TimeSpan.FromSeconds(60));

        Assert.Equal(SettingsStack.Int(setting), reported.GetProperty("max").GetInt64());
    }

    /// <summary>
    /// Read steadily (eager refresh is off), an entry is answered from the cache until its TTL passes and then
    /// queried again: the time between two misses is the TTL (the defaults are 60 to 300 s).
    /// </summary>
    [Theory]
    [InlineData("CACHE_TTL_COUNT", "/api/v1/optimized/clients/dashboard")]
    [InlineData("CACHE_TTL_FIND", "/api/v1/clients/{id}")]
    [InlineData("CACHE_TTL_SEARCH", "/api/v1/clients?limit=37")]
    [InlineData("CACHE_DEFAULT_TTL", "/api/v1/optimized/clients/analytics/performance?granularity=week")]
    public async Task AnEntryExpiresAfterItsTtlSetting(string setting, string route)
    {
        if (route.Contains("{id}", StringComparison.Ordinal))
        {
            using var writer = stack.CreateClient("clients-api", "writer");
            var created = await writer.PostAsJsonAsync("/api/v1/clients", new { name = "Settings Ttl", email = $"ttl-{Guid.NewGuid():N}@example.com", programType = "PRIME" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            route = route.Replace("{id}", (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64().ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        }

        using var reader = stack.CreateClient("clients-api", "reader");
        var ttl = TimeSpan.FromSeconds(SettingsStack.Int(setting));
        var clock = Stopwatch.StartNew();
        async Task<TimeSpan> NextMissAsync(TimeSpan after, TimeSpan limit)
        {
            while (clock.Elapsed < limit)
            {
                using var response = await reader.GetAsync(route);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                if (response.Headers.GetValues("X-Cache").Single() == "MISS" && clock.Elapsed > after)
                {
                    return clock.Elapsed;
                }

                await Task.Delay(100);
            }

            throw new TimeoutException($"{route}: no miss within {limit}");
        }

        // A write's invalidation is repeated a second later (Cache:InvalidationRepeatMs), and one may also remove an
        // entry early: misses in the first 1.5 s are not counted, and of two lifetimes in a row the longer is the TTL.
        var first = await NextMissAsync(TimeSpan.FromSeconds(1.5), ttl + TimeSpan.FromSeconds(12));
        var second = await NextMissAsync(first, first + ttl + TimeSpan.FromSeconds(10));
        var third = await NextMissAsync(second, second + ttl + TimeSpan.FromSeconds(10));

        var lived = Max(second - first, third - second);
        Assert.True(lived >= ttl - TimeSpan.FromSeconds(0.5) && lived < ttl + TimeSpan.FromSeconds(5), $"{setting}={ttl.TotalSeconds} s: the entry lived {lived.TotalSeconds:0.0} s");
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>
    /// Writes held behind a table lock: the write pool (3) fills, the next write waits DB_CONNECTION_TIMEOUT (1 s)
    /// for a connection and gets 503, and the held ones are cancelled after DB_COMMAND_TIMEOUT (4 s), 503 too.
    /// </summary>
    [Fact]
    public async Task TheConnectionAndCommandTimeoutsBoundABlockedWrite()
    {
        using var writer = stack.CreateClient("clients-api", "writer");
        Task<(HttpStatusCode Status, TimeSpan Took)> CreateAsync() => Task.Run(async () =>
        {
            var clock = Stopwatch.StartNew();
            using var response = await writer.PostAsJsonAsync("/api/v1/clients", new { name = "Settings Timeout", email = $"timeout-{Guid.NewGuid():N}@example.com", programType = "PRIME" });
            return (response.StatusCode, clock.Elapsed);
        });

        await using var blocker = await ClientsLock.LockAsync(stack.ClientsDb);
        var held = Enumerable.Range(0, SettingsStack.Int("DB_WRITE_POOL_SIZE")).Select(_ => CreateAsync()).ToList();
        await Eventually.ThatAsync(async () => await InsertsWaitingAsync() == held.Count, TimeSpan.FromSeconds(20), "the write pool's connections held by the lock");

        var (status, took) = await CreateAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.True(took >= TimeSpan.FromSeconds(0.8) && took < TimeSpan.FromSeconds(3.5), $"a write waited {took.TotalSeconds:0.0} s for a connection");

        foreach (var (heldStatus, heldTook) in await Task.WhenAll(held))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, heldStatus);
            Assert.True(heldTook >= TimeSpan.FromSeconds(3.5) && heldTook < TimeSpan.FromSeconds(15), $"a held write was answered after {heldTook.TotalSeconds:0.0} s");
        }

        await blocker.RollbackAsync();
    }

    [Fact]
    public async Task PerfApisSlowQueryThresholdIsTheSetting()
    {
        using var perf = stack.CreateClient("perf-api", "reader");

        using var slow = JsonDocument.Parse(await perf.GetStringAsync("/api/v1/performance/slow-queries"));

        Assert.Equal(double.Parse(SettingsStack.Changed["SLOW_QUERY_THRESHOLD"], CultureInfo.InvariantCulture), slow.RootElement.GetProperty("thresholdSeconds").GetDouble());
    }

    [Fact]
    public async Task WithMonitoringOffClientsApiExportsCacheCountersButNoQueryDurations()
    {
        using var reader = stack.CreateClient("clients-api", "reader");
        using var perf = stack.CreateClient("perf-api", "reader");
        for (var i = 0; i < 3; i++)
        {
            (await reader.GetAsync("/api/v1/clients?limit=41")).Dispose();
        }

        var metrics = await Eventually.WaitAsync(async () =>
        {
            using var page = JsonDocument.Parse(await perf.GetStringAsync("/api/v1/performance/metrics"));
            var since = page.RootElement.GetProperty("cache").GetProperty("sinceStart");
            return since.GetProperty("hits").GetInt64() + since.GetProperty("misses").GetInt64() >= 3 ? page.RootElement.Clone() : null;
        }, "ClientsApi's cache counters in PerfApi", TimeSpan.FromSeconds(30));

        Assert.Equal(0, metrics.GetProperty("queries").GetProperty("sinceStart").GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task TheAllowedOriginGetsItsPreflightAnswered()
    {
        using var anonymous = stack.CreateClient("clients-api");
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/v1/clients");
        preflight.Headers.Add("Origin", SettingsStack.Origin);
        preflight.Headers.Add("Access-Control-Request-Method", "GET");

        using var response = await anonymous.SendAsync(preflight);

        Assert.Equal([SettingsStack.Origin], response.Headers.GetValues("Access-Control-Allow-Origin"));
    }

    private async Task<long> InsertsWaitingAsync()
    {
        await using var command = stack.ClientsDb.CreateCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND usename = 'nexuscore_clients_api' AND query ILIKE '%clients%'");
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
