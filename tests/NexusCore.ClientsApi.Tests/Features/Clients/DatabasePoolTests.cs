using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using NexusCore.ClientsApi.Extensions;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

/// <summary>
/// ClientsApi's three pools as its own service registration builds them, connected to the stack's
/// Postgres: how each has Postgres plan its prepared statements, the room Postgres leaves for them, and
/// by-ids answering lists of every size through the lookup pool's generic plan.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class DatabasePoolTests(StackFixture stack)
{
    private readonly ClientsApiDriver _api = new(stack);

    [Fact]
    public async Task LookupsByIdArePlannedOncePerConnectionWhileSearchesAndWritesArePlannedForEachExecution()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration["ConnectionStrings:clientsdb"] = await stack.ConnectionStringAsync("clientsdb");
        builder.Configuration["DB_LOOKUP_POOL_SIZE"] = "7";
        builder.AddApplicationServices();
        await using var services = builder.Services.BuildServiceProvider();

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
    public async Task PostgresHasRoomForEveryPoolOfThreeReplicasAndPerfApi()
    {
        // With their default sizes, full pools never meet "too many clients".
        var defaults = DatabaseOptions.From(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
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

    private static async Task<string> PlanModeAsync(NpgsqlDataSource source)
    {
        await using var command = source.CreateCommand("SHOW plan_cache_mode");
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
