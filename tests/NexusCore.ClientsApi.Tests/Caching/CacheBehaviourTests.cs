using System.Net;
using System.Net.Http.Json;
using NexusCore.ClientsApi.Tests.Features.Clients;

namespace NexusCore.ClientsApi.Tests.Caching;

[Collection(StackCollection.Name)]
public sealed class CacheBehaviourTests(ClientsApiStack stack)
{
    private readonly ClientsApiDriver _api = new(stack);

    [Fact]
    public async Task FiveHundredConcurrentColdRequestsForOneKeyRunOneQuery()
    {
        // Inserted in SQL: no write through the API, so no invalidation can touch this key meanwhile.
        var id = (await _api.InsertAsync("Stampede")).Id;
        var before = await FindStatisticsAsync();
        var queriesBefore = await FindQueryCallsAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => _api.Reader.GetAsync($"/api/v1/clients/{id}")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(1, await FindQueryCallsAsync() - queriesBefore);
        var after = await FindStatisticsAsync();
        Assert.Equal((499L, 1L), (after.Hits - before.Hits, after.Misses - before.Misses));
        Assert.Single(responses, r => XCache(r) == "MISS");
    }

    [Fact]
    public async Task ARepeatedReadIsAHitAndAnswers304ToItsETag()
    {
        var created = await _api.InsertAsync("Etag Reader");

        var first = await _api.Reader.GetAsync($"/api/v1/clients/{created.Id}");
        var second = await _api.Reader.GetAsync($"/api/v1/clients/{created.Id}");
        var conditional = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/clients/{created.Id}");
        conditional.Headers.IfNoneMatch.ParseAdd($"\"{created.Id}.1\"");
        var notModified = await _api.Reader.SendAsync(conditional);

        Assert.Equal(("MISS", "HIT"), (XCache(first), XCache(second)));
        Assert.Equal($"\"{created.Id}.1\"", second.Headers.ETag?.ToString());
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task AfterAPatchTheOldETagNoLongerMatchesAndTheReadShowsTheChange()
    {
        var created = await _api.CreateOkAsync("Before Patch", ClientsApiDriver.UniqueEmail());
        await _api.Reader.GetAsync($"/api/v1/clients/{created.Id}");

        await _api.Http.PatchAsJsonAsync($"/api/v1/clients/{created.Id}", new { name = "After Patch" });
        var conditional = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/clients/{created.Id}");
        conditional.Headers.IfNoneMatch.ParseAdd($"\"{created.Id}.1\"");
        var response = await _api.Reader.SendAsync(conditional);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("After Patch", (await ClientsApiDriver.ReadAsync<ClientDto>(response)).Name);
        Assert.Equal($"\"{created.Id}.2\"", response.Headers.ETag?.ToString());
    }

    [Fact]
    public async Task SearchesAnswer304ToTheirContentETagUntilAWriteChangesThem()
    {
        var token = ClientsApiDriver.Token();
        await _api.CreateOkAsync($"Etag Search {token}", ClientsApiDriver.UniqueEmail());
        var url = $"/api/v1/optimized/clients/search/advanced?q={token}";
        var first = await _api.Reader.GetAsync(url);
        var etag = first.Headers.ETag!.ToString();

        var unchanged = new HttpRequestMessage(HttpMethod.Get, url);
        unchanged.Headers.IfNoneMatch.ParseAdd(etag);
        var notModified = await _api.Reader.SendAsync(unchanged);
        await _api.CreateOkAsync($"Etag Search {token} two", ClientsApiDriver.UniqueEmail());
        var changed = new HttpRequestMessage(HttpMethod.Get, url);
        changed.Headers.IfNoneMatch.ParseAdd(etag);
        var modified = await _api.Reader.SendAsync(changed);

        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(HttpStatusCode.OK, modified.StatusCode);
        Assert.Equal(2, (await ClientsApiDriver.ReadAsync<PageDto>(modified)).Items.Count);
    }

    [Fact]
    public async Task EachKindOfWriteInvalidatesWhatItMadeStale()
    {
        var token = ClientsApiDriver.Token();
        var search = $"/api/v1/optimized/clients/search/advanced?q={token}&count=exact";
        var kept = await _api.CreateOkAsync($"Kept {token}", ClientsApiDriver.UniqueEmail(), "PRIME", "active");
        var removed = await _api.CreateOkAsync($"Removed {token}", ClientsApiDriver.UniqueEmail(), "PRIME", "active");
        await WarmAsync(search, $"/api/v1/clients/{kept.Id}", $"/api/v1/clients/{removed.Id}", "/api/v1/optimized/clients/dashboard");
        var dashboard = await ClientsApiDriver.ReadAsync<DashboardDto>(await _api.Reader.GetAsync("/api/v1/optimized/clients/dashboard"));

        // create: lists and counts
        var added = await _api.CreateOkAsync($"Added {token}", ClientsApiDriver.UniqueEmail(), "LONGEVITY", "active");
        Assert.Equal(3, (await Page(search)).Count);
        Assert.Equal(dashboard.TotalClients + 1, (await Dashboard()).TotalClients);

        // patch: that client, lists, counts
        await _api.Http.PatchAsJsonAsync($"/api/v1/clients/{kept.Id}", new { status = "inactive" });
        Assert.Equal("inactive", (await Find(kept.Id)).Status);
        Assert.Contains((await Page(search)).Items, c => c.Id == kept.Id && c.Status == "inactive");
        Assert.Equal(dashboard.ActiveClients, (await Dashboard()).ActiveClients);

        // delete: that client, lists, counts
        await _api.Http.DeleteAsync($"/api/v1/clients/{removed.Id}");
        Assert.Equal(HttpStatusCode.NotFound, (await _api.Reader.GetAsync($"/api/v1/clients/{removed.Id}")).StatusCode);
        Assert.DoesNotContain((await Page(search)).Items, c => c.Id == removed.Id);
        Assert.Equal(dashboard.TotalClients, (await Dashboard()).TotalClients);

        // batch: updated and deleted clients, lists, counts
        await WarmAsync($"/api/v1/clients/{kept.Id}", $"/api/v1/clients/{added.Id}");
        var batch = await _api.BatchAsync(new
        {
            items = new object[]
            {
                new { op = "update", id = kept.Id, name = $"Renamed {token}" },
                new { op = "delete", id = added.Id },
            },
        });
        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        Assert.Equal($"Renamed {token}", (await Find(kept.Id)).Name);
        Assert.Equal(HttpStatusCode.NotFound, (await _api.Reader.GetAsync($"/api/v1/clients/{added.Id}")).StatusCode);
        Assert.Equal(1, (await Page(search)).Count);
        Assert.Equal(dashboard.TotalClients - 1, (await Dashboard()).TotalClients);
    }

    [Fact]
    public async Task AWriteToOneClientLeavesOtherClientsCached()
    {
        var one = await _api.InsertAsync("One");
        var other = await _api.InsertAsync("Other");
        await WarmAsync($"/api/v1/clients/{other.Id}");

        await _api.Http.PatchAsJsonAsync($"/api/v1/clients/{one.Id}", new { name = "One changed" });

        Assert.Equal("HIT", XCache(await _api.Reader.GetAsync($"/api/v1/clients/{other.Id}")));
    }

    [Fact]
    public async Task StatisticsCountHitsAndMissesByQueryType()
    {
        var created = await _api.InsertAsync("Counted");
        var before = await StatisticsAsync();

        for (var i = 0; i < 4; i++)
        {
            await _api.Reader.GetAsync($"/api/v1/clients/{created.Id}");
        }

        var after = await StatisticsAsync();
        var find = (after.ByQueryType["find"].Hits - before.ByQueryType["find"].Hits, after.ByQueryType["find"].Misses - before.ByQueryType["find"].Misses);
        Assert.Equal((3L, 1L), find);
        Assert.True(after.Entries > 0);
        Assert.True(after.SizeMb > 0);
        var expectedRate = Math.Round(100m * (after.Hits + after.Stale) / (after.Hits + after.Stale + after.Misses), 2, MidpointRounding.AwayFromZero);
        Assert.Equal(expectedRate, after.HitRate);
    }

    [Fact]
    public async Task ClearEmptiesTheCacheAndOnlyAnAdminMayCallIt()
    {
        var created = await _api.InsertAsync("Cleared");
        await WarmAsync($"/api/v1/clients/{created.Id}");

        var forbidden = await _api.Http.PostAsync("/api/v1/cache/clear", null);
        var cleared = await _api.Admin.PostAsync("/api/v1/cache/clear", null);

        await Problem.ReadAsync(forbidden, HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.NoContent, cleared.StatusCode);
        Assert.Equal("MISS", XCache(await _api.Reader.GetAsync($"/api/v1/clients/{created.Id}")));
    }

    [Fact]
    public async Task CacheKeysComeOnlyFromValidatedRequests()
    {
        var before = await StatisticsAsync();

        var junk = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => _api.Reader.GetAsync($"/api/v1/optimized/clients/search/advanced?junk{i}=1")));

        Assert.All(junk, r => Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode));
        var after = await StatisticsAsync();
        Assert.Equal(before.ByQueryType["search"].Misses, after.ByQueryType["search"].Misses);
    }

    /// <summary>Reads each URL until it is served from the cache (an earlier write's repeated invalidation may evict it once).</summary>
    private async Task WarmAsync(params string[] urls)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        foreach (var url in urls)
        {
            while (XCache(await _api.Reader.GetAsync(url, deadline.Token)) != "HIT")
            {
                deadline.Token.ThrowIfCancellationRequested();
            }
        }
    }

    private async Task<ClientDto> Find(long id) => await ClientsApiDriver.ReadAsync<ClientDto>(await _api.Reader.GetAsync($"/api/v1/clients/{id}"));

    private async Task<PageDto> Page(string url) => await ClientsApiDriver.ReadAsync<PageDto>(await _api.Reader.GetAsync(url));

    private async Task<DashboardDto> Dashboard() =>
        await ClientsApiDriver.ReadAsync<DashboardDto>(await _api.Reader.GetAsync("/api/v1/optimized/clients/dashboard"));

    private async Task<StatisticsDto> StatisticsAsync() =>
        await ClientsApiDriver.ReadAsync<StatisticsDto>(await _api.Admin.GetAsync("/api/v1/cache/statistics"));

    private async Task<(long Hits, long Misses)> FindStatisticsAsync()
    {
        var statistics = await StatisticsAsync();
        return (statistics.ByQueryType["find"].Hits, statistics.ByQueryType["find"].Misses);
    }

    private async Task<long> FindQueryCallsAsync() => (await _api.QueryAsync(
        "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements WHERE query LIKE 'SELECT id, name, email, status, program_type, created_at, updated_at, version FROM clients WHERE id = $1%'",
        r => r.GetInt64(0)))[0];

    internal static string? XCache(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Cache", out var values) ? values.Single() : null;
}

internal sealed record StatisticsDto(
    string Instance, Dictionary<string, QueryTypeStatisticsDto> ByQueryType, long Hits, long Misses, long Stale, decimal HitRate, long Entries, decimal SizeMb);

internal sealed record QueryTypeStatisticsDto(long Hits, long Misses, long Stale, decimal HitRate, long Refreshes);
