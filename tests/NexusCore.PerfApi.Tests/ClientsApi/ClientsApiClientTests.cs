using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Integrations;

namespace NexusCore.PerfApi.Tests.ClientsApi;

[NoStack]
public sealed class ClientsApiClientTests
{
    private const string CallerKey = "callers-admin-key-0123456789abcdef";

    [Fact]
    public async Task ACacheClearPostsToClientsApiWithTheCallersKey()
    {
        var handler = StubHandler.Status(HttpStatusCode.NoContent);

        var result = await Client(handler).ClearCacheAsync(CallerKey, CancellationToken.None);

        Assert.Equal(ClientsApiOutcome.Succeeded, result.Outcome);
        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("http://clients-api/api/v1/cache/clear", request.RequestUri!.ToString());
        Assert.Equal(CallerKey, Assert.Single(request.Headers.GetValues("X-Api-Key")));
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError, "ClientsApi answered 500 to the cache clear.")]
    [InlineData(HttpStatusCode.Forbidden, "ClientsApi refused the caller's key (403).")]
    public async Task AnAnswerThatIsNotASuccessIsAFailure(HttpStatusCode status, string detail)
    {
        var result = await Client(StubHandler.Status(status)).ClearCacheAsync(CallerKey, CancellationToken.None);

        Assert.Equal(new ClientsApiResult(ClientsApiOutcome.Failed, status, detail), result);
    }

    [Fact]
    public async Task ARefusedConnectionIsUnavailable()
    {
        var handler = new StubHandler((_, _) => throw new HttpRequestException("Connection refused", new SocketException((int)SocketError.ConnectionRefused)));

        var result = await Client(handler).ClearCacheAsync(CallerKey, CancellationToken.None);

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

        var result = await Client(handler, timeout: TimeSpan.FromMilliseconds(200)).ClearCacheAsync(CallerKey, CancellationToken.None);

        Assert.Equal(ClientsApiOutcome.Unavailable, result.Outcome);
        Assert.Equal("ClientsApi did not answer within 0.2 s.", result.Detail);
    }

    internal static ClientsApiClient Client(HttpMessageHandler handler, TimeSpan? timeout = null) =>
        new(new HttpClient(handler) { BaseAddress = new Uri("http://clients-api") },
            Options.Create(new ClientsApiOptions { CacheClearTimeout = timeout ?? TimeSpan.FromSeconds(10) }));
}
