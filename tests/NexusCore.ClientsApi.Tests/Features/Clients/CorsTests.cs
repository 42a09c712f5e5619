using System.Net;
using System.Net.Http.Json;
using NexusCore.Web;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

/// <summary>A browser frontend on another origin (<see cref="StackFixture.FrontendOrigin"/>, allowed by CORS_ALLOWED_ORIGINS) calling ClientsApi.</summary>
[Collection(StackCollection.Name)]
public sealed class CorsTests(ClientsApiStack stack)
{
    private const string OtherOrigin = "https://elsewhere.example";
    private readonly ClientsApiDriver _api = new(stack);

    [Fact]
    public async Task APreflightFromTheFrontendIsAnsweredWithoutAKeyAndAllowsAConditionalPatch()
    {
        var client = await _api.CreateOkAsync("Preflight", ClientsApiDriver.UniqueEmail());

        var response = await _api.Anonymous.SendAsync(Preflight($"/api/v1/clients/{client.Id}", StackFixture.FrontendOrigin, "PATCH", "content-type,if-match,x-api-key"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(StackFixture.FrontendOrigin, Header(response, "Access-Control-Allow-Origin"));
        Assert.Contains("PATCH", Header(response, "Access-Control-Allow-Methods").Split(','));
        Assert.Subset(Header(response, "Access-Control-Allow-Headers").ToLowerInvariant().Split(',').ToHashSet(), new HashSet<string> { "content-type", "if-match", "x-api-key" });
        Assert.Equal("600", Header(response, "Access-Control-Max-Age"));
        Assert.False(response.Headers.Contains("Access-Control-Allow-Credentials"));

        // A preflight is not the request: the client is as it was.
        Assert.Equal(client, await Problem.ReadJsonAsync<ClientDto>(await _api.Reader.GetAsync($"/api/v1/clients/{client.Id}")));
    }

    [Fact]
    public async Task ResponsesToTheFrontendLetItReadTheCacheValidatorsAndProblems()
    {
        var client = await _api.CreateOkAsync("Cross origin", ClientsApiDriver.UniqueEmail());

        using var get = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/clients/{client.Id}") { Headers = { { "Origin", StackFixture.FrontendOrigin } } };
        var read = await _api.Reader.SendAsync(get);
        using var anonymous = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/clients/{client.Id}") { Headers = { { "Origin", StackFixture.FrontendOrigin } } };
        var refused = await _api.Anonymous.SendAsync(anonymous);

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(StackFixture.FrontendOrigin, Header(read, "Access-Control-Allow-Origin"));
        Assert.Equal(CorsDefaults.ResponseHeaders.Order(), Header(read, "Access-Control-Expose-Headers").Split(',').Order());
        Assert.NotNull(read.Headers.ETag);

        // The browser lets the frontend read why it was refused.
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(StackFixture.FrontendOrigin, Header(refused, "Access-Control-Allow-Origin"));
        await Problem.ReadAsync(refused, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task AnOriginNotListedGetsNoCorsHeadersSoBrowsersKeepTheResponseFromIt()
    {
        var client = await _api.CreateOkAsync("Other origin", ClientsApiDriver.UniqueEmail());

        var preflight = await _api.Anonymous.SendAsync(Preflight("/api/v1/clients", OtherOrigin, "POST", "content-type,x-api-key"));
        using var get = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/clients/{client.Id}") { Headers = { { "Origin", OtherOrigin } } };
        var read = await _api.Reader.SendAsync(get);

        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Methods"));
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.False(read.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Theory]
    [InlineData("", new string[0])]
    [InlineData("https://App.Example.com/, http://localhost:5173", new[] { "https://app.example.com", "http://localhost:5173" })]
    [InlineData("https://app.example.com:443;*", new[] { "https://app.example.com", "*" })]
    public void ConfiguredOriginsAreReadAsBrowsersSendThem(string text, string[] expected) =>
        Assert.Equal(expected, CorsDefaults.Origins(text));

    [Theory]
    [InlineData("app.example.com")]
    [InlineData("https://app.example.com/path")]
    [InlineData("ftp://app.example.com")]
    [InlineData("https://app.example.com/?x=1")]
    public void AnOriginThatIsNotOneStopsTheServiceNamingIt(string entry)
    {
        var error = Assert.Throws<InvalidOperationException>(() => CorsDefaults.Origins("http://localhost:3000," + entry));
        Assert.Contains($"'{entry}'", error.Message, StringComparison.Ordinal);
    }

    private static HttpRequestMessage Preflight(string path, string origin, string method, string headers) =>
        new(HttpMethod.Options, path)
        {
            Headers =
            {
                { "Origin", origin },
                { "Access-Control-Request-Method", method },
                { "Access-Control-Request-Headers", headers },
            },
        };

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(',', values) : throw new Xunit.Sdk.XunitException($"No {name} in a {(int)response.StatusCode} response.");
}
