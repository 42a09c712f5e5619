using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace NexusCore.PerfApi.Tests.Features.Cache;

[Collection(StackCollection.Name)]
public sealed class CacheClearTests(PerfApiStack stack)
{
    [Fact]
    public async Task AnAdminClearEmptiesClientsApisCacheSoTheNextReadMisses()
    {
        var writer = stack.CreateClient("clients-api", "writer");
        var reader = stack.CreateClient("clients-api", "reader");
        var created = await writer.PostAsJsonAsync("/api/v1/clients", new { name = "Frances Allen", email = $"clear.{Guid.NewGuid():N}@example.com", programType = "LONGEVITY" });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).Long("id");

        // Cached: a read after a read is a hit (a write's delayed invalidation may cost one more miss).
        var cached = false;
        for (var i = 0; i < 5 && !cached; i++)
        {
            cached = await XCacheAsync(reader, id) == "HIT";
        }

        Assert.True(cached, "the client was never served from the cache");

        var (status, _) = await new PerfApiClient(stack, "admin").PostAsync("/api/v1/performance/cache/clear");

        Assert.Equal(HttpStatusCode.NoContent, status);
        Assert.Equal("MISS", await XCacheAsync(reader, id));
        Assert.Equal("HIT", await XCacheAsync(reader, id));
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("reader", HttpStatusCode.Forbidden)]
    [InlineData("writer", HttpStatusCode.Forbidden)]
    [InlineData("ingest", HttpStatusCode.Forbidden)]
    public async Task OnlyTheAdminKeyMayClear(string? role, HttpStatusCode expected)
    {
        var response = await stack.CreateClient("perf-api", role).PostAsync("/api/v1/performance/cache/clear", null);

        await Problem.ReadAsync(response, expected);
    }

    private static async Task<string> XCacheAsync(HttpClient reader, long id)
    {
        var response = await reader.GetAsync($"/api/v1/clients/{id}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues("X-Cache").Single();
    }
}
