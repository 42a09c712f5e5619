using NexusCore.ClientsApi.Tests.Features.Clients;

namespace NexusCore.ClientsApi.Tests.Caching;

[Collection(ReplicatedCollection.Name)]
public sealed class EagerRefreshTests(ReplicatedStack stack)
{
    private readonly ClientsApiDriver _api = new(stack);

    [Fact]
    public async Task AnEntryReadPastHalfItsTtlIsRefreshedInTheBackgroundWhileEveryReadIsAHit()
    {
        var replica = (await stack.CreateReplicaClientsAsync("clients-api", "admin", 2))[0];
        var token = ClientsApiDriver.Token();

        // Inserted and renamed in SQL, behind the cache's back: nothing invalidates this client's entry
        // (other tests' writes remove only their own clients' entries), so only a refresh can show the
        // new name, and only a read can trigger one.
        var client = await _api.InsertAsync($"Eager {token}");
        var first = await replica.GetAsync($"/api/v1/clients/{client.Id}");
        var refreshesBefore = await FindRefreshesAsync(replica);
        await _api.ExecuteAsync("UPDATE clients SET name = $1 WHERE id = $2", $"Refreshed {token}", client.Id);

        var reads = new List<(string? XCache, string Name, int Age)>();
        var seen = await Eventually.ThatAsync(
            async () =>
            {
                using var response = await replica.GetAsync($"/api/v1/clients/{client.Id}");
                var read = await ClientsApiDriver.ReadAsync<ClientDto>(response);
                reads.Add((CacheBehaviourTests.XCache(response), read.Name, int.Parse(response.Headers.GetValues("Age").Single(), System.Globalization.CultureInfo.InvariantCulture)));
                return read.Name == $"Refreshed {token}";
            },
            TimeSpan.FromSeconds(3 * ReplicatedStack.ShortTtlSeconds),
            "the new name through a refreshed entry",
            TimeSpan.FromMilliseconds(100));

        var oldest = reads.Where(r => r.Name == $"Eager {token}").Max(r => r.Age);
        Assert.Equal("MISS", CacheBehaviourTests.XCache(first));
        Assert.All(reads, r => Assert.Equal("HIT", r.XCache));
        Assert.True(seen < TimeSpan.FromSeconds(ReplicatedStack.ShortTtlSeconds), $"seen after {seen}, past the TTL: an expiry, not a refresh");

        // The old entry was served until a read found it past half its TTL; the refreshed one is younger.
        Assert.True(oldest >= ReplicatedStack.ShortTtlSeconds / 2, $"oldest age served {oldest} s");
        Assert.True(reads[^1].Age < oldest, $"refreshed entry's age {reads[^1].Age} s");
        Assert.True(await FindRefreshesAsync(replica) > refreshesBefore);
    }

    private static async Task<long> FindRefreshesAsync(HttpClient replica) =>
        (await ClientsApiDriver.ReadAsync<StatisticsDto>(await replica.GetAsync("/api/v1/cache/statistics"))).ByQueryType["find"].Refreshes;
}
