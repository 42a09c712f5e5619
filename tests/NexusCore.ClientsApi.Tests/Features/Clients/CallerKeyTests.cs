using System.Net;
using System.Net.Http.Json;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

/// <summary>
/// Keys are per caller: the stack adds a second reader and a second writer key and a revoked one through the
/// AppHost's configuration (see <see cref="StackFixture.ConfiguredKeys"/>); each caller is its key's id.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class CallerKeyTests(ClientsApiStack stack)
{
    private readonly ClientsApiDriver _api = new(stack);

    [Fact]
    public async Task AReaderKeyAddedThroughConfigurationReadsAndMayNotWrite()
    {
        var reader = stack.CreateClient("clients-api", StackFixture.SecondReaderKey);
        var email = ClientsApiDriver.UniqueEmail("second-reader");

        var read = await reader.GetAsync("/api/v1/optimized/clients/dashboard");
        var write = await reader.PostAsJsonAsync("/api/v1/clients", new { name = "Not Written", email, programType = "PRIME" });

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        await Problem.ReadAsync(write, HttpStatusCode.Forbidden);
        Assert.Equal(0, await _api.CountByEmailAsync(email));
    }

    [Fact]
    public async Task AWriterKeyAddedThroughConfigurationWrites()
    {
        var email = ClientsApiDriver.UniqueEmail("second-writer");

        var created = await stack.CreateClient("clients-api", StackFixture.SecondWriterKey)
            .PostAsJsonAsync("/api/v1/clients", new { name = "Second Writer", email, programType = "PRIME" });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(1, await _api.CountByEmailAsync(email));
    }

    [Fact]
    public async Task ARevokedKeyGets401WhileTheOtherKeysOfItsRoleKeepWorking()
    {
        var revoked = await stack.CreateClient("clients-api", StackFixture.RevokedKey).GetAsync("/api/v1/optimized/clients/dashboard");
        var reader = await stack.CreateClient("clients-api", "reader").GetAsync("/api/v1/optimized/clients/dashboard");
        var secondReader = await stack.CreateClient("clients-api", StackFixture.SecondReaderKey).GetAsync("/api/v1/optimized/clients/dashboard");

        Assert.Equal("The API key is not valid.", (await Problem.ReadAsync(revoked, HttpStatusCode.Unauthorized)).Detail);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (reader.StatusCode, secondReader.StatusCode));
    }

    [Fact]
    public async Task TheIngestKeyIsNotAKeyOfClientsApi()
    {
        // ClientsApi is given no ingest key's hash: the key it exports telemetry with opens nothing here.
        var response = await stack.CreateClient("clients-api", "ingest").GetAsync("/api/v1/optimized/clients/dashboard");

        await Problem.ReadAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task TwoWriterKeysHaveSeparateIdempotencyScopes()
    {
        var client = await _api.InsertAsync("Idempotency Scopes");
        var key = Guid.NewGuid().ToString();
        var body = new { items = new[] { new { op = "update", id = client.Id, status = "pending" } } };

        var first = await BatchAsync("writer", body, key);
        var second = await BatchAsync(StackFixture.SecondWriterKey, body, key);
        var secondRetried = await BatchAsync(StackFixture.SecondWriterKey, body, key);

        // Each key's first request ran (version +1 each time); only a key's own retry is a replay.
        Assert.Equal((client.Version + 1, client.Version + 2), (await VersionAsync(first), await VersionAsync(second)));
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.False(second.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", secondRetried.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(client.Version + 2, await VersionAsync(secondRetried));
        Assert.Equal(client.Version + 2, (await _api.QueryAsync("SELECT version FROM clients WHERE id = $1", r => r.GetInt32(0), client.Id)).Single());
        Assert.Equal(
            ["writer-2:batch", "writer:batch"],
            await _api.QueryAsync("SELECT scope FROM idempotency_keys WHERE key = $1 ORDER BY scope COLLATE \"C\"", r => r.GetString(0), key));
    }

    private Task<HttpResponseMessage> BatchAsync(string keyId, object body, string idempotencyKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/optimized/clients/batch") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return stack.CreateClient("clients-api", keyId).SendAsync(request);
    }

    private static async Task<int> VersionAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Assert.Single((await ClientsApiDriver.ReadAsync<BatchDto>(response)).Items).Version!.Value;
    }
}
