using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Microsoft.Extensions.Options;
using NexusCore.ClientsApi.Database;
using NexusCore.ClientsApi.Extensions;
using NexusCore.Testing;
using ByIds = NexusCore.ClientsApi.Features.Clients.ByIds;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

/// <summary>
/// ClientsApi's three pools as its own service registration builds them, connected to the stack's
/// Postgres: how each has Postgres plan its prepared statements, the room Postgres leaves for them,
/// by-ids answering lists of every size through the lookup pool's generic plan, and by-ids' turns
/// (<c>DB_BULK_LOOKUP_CONCURRENCY</c>): how many of its queries reach Postgres at once, how long one
/// waits for a turn, and the metrics that show both.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class DatabasePoolTests(ClientsApiStack stack)
{
    private readonly ClientsApiDriver _api = new(stack);

    [Fact]
    public async Task LookupsByIdArePlannedOncePerConnectionWhileSearchesAndWritesArePlannedForEachExecution()
    {
        await using var services = await ServicesAsync(("DB_LOOKUP_POOL_SIZE", "7"));

        var lookups = services.GetRequiredService<LookupDatabase>().Source;
        var searches = services.GetRequiredService<NpgsqlDataSource>();
        var writes = services.GetRequiredService<WriteDatabase>().Source;

        Assert.Equal(
            ("force_generic_plan", "force_custom_plan", "force_custom_plan"),
            (await PlanModeAsync(lookups), await PlanModeAsync(searches), await PlanModeAsync(writes)));
        Assert.Equal(7, new NpgsqlConnectionStringBuilder(lookups.ConnectionString).MaxPoolSize);
        Assert.Equal(3, services.GetRequiredService<DatabasePools>().Sources.Distinct().Count());
    }

    [Fact]
    public async Task ByIdsRunsAtMostItsConcurrencyOfQueriesAtOnceAndTheOthersWaitTheirTurn()
    {
        var ids = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await _api.InsertAsync($"Bulk turn {i}")).Id);
        }

        await using var services = await ServicesAsync((BulkLookupConcurrency, "2"));
        var lookups = services.GetRequiredService<LookupDatabase>();
        using var metrics = new TurnMetrics(services);

        List<Task<ByIds.Response>> calls;
        await using (var blocker = await ClientsLock.LockAsync(stack.ClientsDb))
        {
            calls = [.. Enumerable.Range(0, 5).Select(_ => ByIds.Data.FindAsync(lookups, [.. ids], CancellationToken.None))];

            await Eventually.ThatAsync(async () => await ByIdsWaitingInPostgresAsync() == 2, TimeSpan.FromSeconds(15), "two by-ids queries waiting on the lock");
            Assert.Equal(3, lookups.BulkTurns.GetStatistics()!.CurrentQueuedCount);
            Assert.Equal(2, await ByIdsWaitingInPostgresAsync());
            Assert.All(calls, c => Assert.False(c.IsCompleted));
            Assert.Equal((2L, 3L), metrics.Gauges());
            await blocker.CommitAsync();
        }

        var results = await Task.WhenAll(calls);

        Assert.All(results, r => Assert.Equal(ids, r.Items.Select(c => c.Id)));
        var turns = lookups.BulkTurns.GetStatistics()!;
        Assert.Equal((0L, 2L, 5L), (turns.CurrentQueuedCount, turns.CurrentAvailablePermits, turns.TotalSuccessfulLeases));
        Assert.Equal((0L, 0L), metrics.Gauges());

        // Two found a turn free and waited 0 s; the three queued waited until the lock was released.
        var waits = metrics.Waits();
        Assert.Equal(5, waits.Count);
        Assert.All(waits, w => Assert.Equal("acquired", w.Outcome));
        Assert.Equal(2, waits.Count(w => w.Seconds == 0));
        Assert.Equal(3, waits.Count(w => w.Seconds > 0));
    }

    [Fact]
    public async Task AByIdsThatWaitsForATurnLongerThanTheConnectionTimeoutFailsAsATimeout()
    {
        var id = (await _api.InsertAsync("Bulk turn timeout")).Id;
        await using var services = await ServicesAsync((BulkLookupConcurrency, "1"), ("DB_CONNECTION_TIMEOUT", "1"));
        var lookups = services.GetRequiredService<LookupDatabase>();
        using var metrics = new TurnMetrics(services);

        Task<ByIds.Response> first;
        await using (var blocker = await ClientsLock.LockAsync(stack.ClientsDb))
        {
            first = ByIds.Data.FindAsync(lookups, [id], CancellationToken.None);
            await Eventually.ThatAsync(async () => await ByIdsWaitingInPostgresAsync() == 1, TimeSpan.FromSeconds(15), "the first by-ids query waiting on the lock");

            // The first holds the only turn: the second waits one connection timeout, then fails as a
            // timeout (answered 503 with Retry-After), without reaching Postgres.
            var error = await Assert.ThrowsAsync<TimeoutException>(() => ByIds.Data.FindAsync(lookups, [id], CancellationToken.None));
            Assert.Contains("within 1 s", error.Message);
            Assert.Equal(1, await ByIdsWaitingInPostgresAsync());
            Assert.False(first.IsCompleted);
            await blocker.CommitAsync();
        }

        Assert.Equal(id, Assert.Single((await first).Items).Id);
        var turns = lookups.BulkTurns.GetStatistics()!;
        Assert.Equal((0L, 1L, 1L, 1L), (turns.CurrentQueuedCount, turns.CurrentAvailablePermits, turns.TotalSuccessfulLeases, turns.TotalFailedLeases));
        var waits = metrics.Waits();
        Assert.Equal(2, waits.Count);
        Assert.Contains(waits, w => w is { Outcome: "acquired", Seconds: 0 });
        Assert.Contains(waits, w => w is { Outcome: "timeout", Seconds: >= 0.9 and < 5 });
    }

    [Fact]
    public void ByIdsTakesOneTurnPerProcessorUnlessConfigured()
    {
        var configuration = new ConfigurationBuilder();
        Assert.Equal(Environment.ProcessorCount, OptionsFrom(configuration.Build()).BulkLookupConcurrency);

        configuration.AddInMemoryCollection([new(BulkLookupConcurrency, "6")]);
        Assert.Equal(6, OptionsFrom(configuration.Build()).BulkLookupConcurrency);

        foreach (var refused in new[] { "0", "-1", "two", "1001" })
        {
            var bad = new ConfigurationBuilder()
                .AddInMemoryCollection([new(BulkLookupConcurrency, refused)]).Build();
            var error = Assert.Throws<InvalidOperationException>(() => { OptionsFrom(bad); });
            Assert.Contains("DB_BULK_LOOKUP_CONCURRENCY must be a whole number from 1 to 1000", error.Message);
        }
    }

    [Fact]
    public async Task PostgresHasRoomForEveryPoolOfThreeReplicasAndPerfApi()
    {
        // With their default sizes, full pools never meet "too many clients".
        var defaults = OptionsFrom(new ConfigurationBuilder().Build());
        var perInstance = defaults.PoolSize + defaults.LookupPoolSize + defaults.WritePoolSize;

        var maxConnections = int.Parse((await _api.QueryAsync("SHOW max_connections", r => r.GetString(0)))[0], System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(80, perInstance);
        Assert.True(maxConnections >= (3 * perInstance) + defaults.PoolSize, $"max_connections {maxConnections} for {perInstance} per ClientsApi instance");
    }

    [Fact]
    public async Task ByIdsOnItsGenericPlanAnswersListsOfEverySizeInRequestOrder()
    {
        // One prepared statement, planned once per connection whatever the number of ids: lists of
        // 1 to 1,000 ids in turn, each round with an id of its own so none is a cache hit.
        var created = new List<ClientDto>();
        for (var i = 0; i < 12; i++)
        {
            created.Add(await _api.InsertAsync($"Generic plan {i}"));
        }

        var known = created.ToDictionary(c => c.Id);
        var all = created.Select(c => c.Id).ToArray();
        var unknown = Enumerable.Range(1, 993).Select(i => all.Max() + 1_000_000 + i).ToArray();
        for (var round = 0; round < 4; round++)
        {
            var own = all.Max() + 10_000_000 + round;
            long[][] lists = [[all[round]], [.. all.Reverse(), own], [.. all.Take(6), .. unknown, own], [own, all[3], all[3], all[1]], [.. all.Skip(6), own]];
            foreach (var ids in lists)
            {
                var result = await ClientsApiDriver.ReadAsync<ByIdsDto>(
                    await _api.Reader.PostAsJsonAsync("/api/v1/optimized/clients/by-ids", new { ids }));

                var wanted = ids.Distinct().ToArray();
                Assert.Equal(wanted.Where(known.ContainsKey).Select(id => known[id]).ToList(), result.Items);
                Assert.Equal(wanted.Where(id => !known.ContainsKey(id)).ToList(), result.Missing);
            }
        }
    }

    /// <summary>ClientsApi's services as its own registration builds them, on the stack's Postgres, with <paramref name="settings"/>.</summary>
    private const string BulkLookupConcurrency = "DB_BULK_LOOKUP_CONCURRENCY";

    /// <summary>The database options ClientsApi's own registration binds from <paramref name="configuration"/>.</summary>
    private static DatabaseOptions OptionsFrom(IConfiguration configuration)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration["ConnectionStrings:clientsdb"] = "Host=127.0.0.1;Database=unused";
        builder.Configuration.AddConfiguration(configuration);
        builder.AddApplicationServices();
        using var services = builder.Services.BuildServiceProvider();
        return services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
    }

    private async Task<ServiceProvider> ServicesAsync(params (string Key, string Value)[] settings)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration["ConnectionStrings:clientsdb"] = await stack.ConnectionStringAsync("clientsdb");
        foreach (var (key, value) in settings)
        {
            builder.Configuration[key] = value;
        }

        builder.AddApplicationServices();
        return builder.Services.BuildServiceProvider();
    }

    private async Task<long> ByIdsWaitingInPostgresAsync() => (await _api.QueryAsync(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT id, name, email%FROM clients WHERE id = ANY($1)'",
        r => r.GetInt64(0)))[0];

    private static async Task<string> PlanModeAsync(NpgsqlDataSource source)
    {
        await using var command = source.CreateCommand("SHOW plan_cache_mode");
        return (string)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// By-ids' turn metrics from one service provider's meters (other providers in the process, built by
    /// other tests, publish the same instrument names and are ignored).
    /// </summary>
    private sealed class TurnMetrics : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly System.Collections.Concurrent.ConcurrentQueue<(string Outcome, double Seconds)> _waits = new();
        private long _running = -1;
        private long _queued = -1;

        public TurnMetrics(IServiceProvider services)
        {
            var scope = services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == scope && instrument.Name.StartsWith("nexuscore.db.bulk_lookup.", StringComparison.Ordinal))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            {
                if (instrument.Name == "nexuscore.db.bulk_lookup.running")
                {
                    _running = value;
                }
                else if (instrument.Name == "nexuscore.db.bulk_lookup.queued")
                {
                    _queued = value;
                }
            });
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
            {
                if (instrument.Name == "nexuscore.db.bulk_lookup.turn_wait")
                {
                    var outcome = tags.ToArray().Single(t => t.Key == "turn.outcome").Value as string ?? "";
                    _waits.Enqueue((outcome, value));
                }
            });
            _listener.Start();
        }

        /// <summary>The gauges now: (running, queued).</summary>
        public (long Running, long Queued) Gauges()
        {
            _listener.RecordObservableInstruments();
            return (_running, _queued);
        }

        public List<(string Outcome, double Seconds)> Waits() => [.. _waits];

        public void Dispose() => _listener.Dispose();
    }

}
