using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.ClientsApi;
using NexusCore.PerfApi.Tests.Alerts;

namespace NexusCore.PerfApi.Tests.ClientsApi;

public sealed class ClientsApiClientTests
{
    private const string AdminKey = "admin-key-0123456789abcdef";

    [Fact]
    public async Task ACacheClearPostsToClientsApiWithPerfApisAdminKey()
    {
        var handler = StubHandler.Status(HttpStatusCode.NoContent);

        var result = await Client(handler).ClearCacheAsync(CancellationToken.None);

        Assert.Equal(ClientsApiOutcome.Succeeded, result.Outcome);
        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("http://clients-api/api/v1/cache/clear", request.RequestUri!.ToString());
        Assert.Equal(AdminKey, Assert.Single(request.Headers.GetValues("X-Api-Key")));
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError, "ClientsApi answered 500 to the cache clear.")]
    [InlineData(HttpStatusCode.Forbidden, "ClientsApi refused PerfApi's 'admin' key (403).")]
    public async Task AnAnswerThatIsNotASuccessIsAFailure(HttpStatusCode status, string detail)
    {
        var result = await Client(StubHandler.Status(status)).ClearCacheAsync(CancellationToken.None);

        Assert.Equal(new ClientsApiResult(ClientsApiOutcome.Failed, status, detail), result);
    }

    [Fact]
    public async Task ARefusedConnectionIsUnavailable()
    {
        var handler = new StubHandler((_, _) => throw new HttpRequestException("Connection refused", new SocketException((int)SocketError.ConnectionRefused)));

        var result = await Client(handler).ClearCacheAsync(CancellationToken.None);

        Assert.Equal(ClientsApiOutcome.Unavailable, result.Outcome);
        Assert.StartsWith("ClientsApi could not be reached", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientsApiThatDoesNotAnswerInTimeIsUnavailable()
    {
        var handler = new StubHandler(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return new HttpResponseMessage(HttpStatusCode.NoContent);
        });

        var result = await Client(handler, timeout: TimeSpan.FromMilliseconds(200)).ClearCacheAsync(CancellationToken.None);

        Assert.Equal(ClientsApiOutcome.Unavailable, result.Outcome);
        Assert.Equal("ClientsApi did not answer within 0.2 s.", result.Detail);
    }

    [Fact]
    public async Task WithoutAnAdminKeyConfiguredNothingIsSent()
    {
        var handler = StubHandler.Status(HttpStatusCode.NoContent);

        var result = await Client(handler, keys: []).ClearCacheAsync(CancellationToken.None);

        Assert.Equal(ClientsApiOutcome.NotConfigured, result.Outcome);
        Assert.Empty(handler.Requests);
    }

    internal static ClientsApiClient Client(HttpMessageHandler handler, TimeSpan? timeout = null, Dictionary<string, ApiKeyEntry>? keys = null)
    {
        var http = new HttpClient(handler) { BaseAddress = new Uri("http://clients-api") };
        var apiKeys = new ApiKeyOptions
        {
            Keys = keys ?? new Dictionary<string, ApiKeyEntry>
            {
                ["admin"] = new() { Key = AdminKey, Role = ApiRoles.Admin },
                ["reader"] = new() { Key = "reader-key-0123456789abcdef", Role = ApiRoles.Reader },
            },
        };
        return new ClientsApiClient(
            http,
            new StaticOptionsMonitor<ApiKeyOptions>(apiKeys),
            Options.Create(new ClientsApiOptions { CacheClearTimeout = timeout ?? TimeSpan.FromSeconds(10) }));
    }
}
