using System.Net;
using System.Net.Http.Json;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

[Collection(StackCollection.Name)]
public sealed class AccessTests(ClientsApiStack stack)
{
    private readonly ClientsApiDriver _api = new(stack);

    /// <summary>Every route, with a valid body, and the least role that may call it.</summary>
    public static TheoryData<string, string, string?, string> Routes => new()
    {
        { "GET", "/api/v1/clients", null, "reader" },
        { "GET", "/api/v1/clients/1", null, "reader" },
        { "POST", "/api/v1/clients", """{"name":"A","email":"access@example.com","programType":"PRIME"}""", "writer" },
        { "PATCH", "/api/v1/clients/1", """{"status":"active"}""", "writer" },
        { "DELETE", "/api/v1/clients/1", null, "writer" },
        { "GET", "/api/v1/optimized/clients/dashboard", null, "reader" },
        { "GET", "/api/v1/optimized/clients/search/advanced", null, "reader" },
        { "POST", "/api/v1/optimized/clients/batch", """{"items":[{"op":"delete","id":1}]}""", "writer" },
        { "GET", "/api/v1/optimized/clients/analytics/performance", null, "reader" },
        { "GET", "/api/v1/optimized/clients/bulk-export", null, "admin" },
        { "POST", "/api/v1/optimized/clients/by-ids", """{"ids":[1]}""", "reader" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task EveryRouteAnswers401ProblemWithoutAKeyAndWritesNothing(string method, string path, string? body, string role)
    {
        _ = role;
        var before = await _api.CountAllAsync();

        var response = await _api.Anonymous.SendAsync(Request(method, path, body));

        var problem = await Problem.ReadAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("https://nexuscore.dev/problems/unauthenticated", problem.Type);
        Assert.Contains("X-Api-Key", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal(before, await _api.CountAllAsync());
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task EveryRouteAnswers401ProblemForAWrongKey(string method, string path, string? body, string role)
    {
        _ = role;
        var request = Request(method, path, body);
        request.Headers.Add("X-Api-Key", "not-a-key-of-this-deployment-0000");

        var response = await _api.Anonymous.SendAsync(request);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("The API key is not valid.", problem.Detail);
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task EveryRouteAnswers403ProblemToARoleBelowItsOwnAndWritesNothing(string method, string path, string? body, string role)
    {
        if (role == "reader")
        {
            return; // every key is at least a reader
        }

        var weaker = stack.CreateClient("clients-api", role == "admin" ? "writer" : "reader");
        var before = await _api.CountAllAsync();

        var response = await weaker.SendAsync(Request(method, path, body));

        var problem = await Problem.ReadAsync(response, HttpStatusCode.Forbidden);
        Assert.Equal("https://nexuscore.dev/problems/forbidden", problem.Type);
        Assert.Equal(before, await _api.CountAllAsync());
    }

    [Fact]
    public async Task ABearerTokenWorksLikeTheKeyHeader()
    {
        var client = stack.CreateClient("clients-api");
        client.DefaultRequestHeaders.Authorization = new("Bearer", stack.ApiKey("reader"));

        var response = await client.GetAsync("/api/v1/optimized/clients/dashboard");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task TheAdminKeyMayExportAndWrite()
    {
        var export = await _api.Admin.GetAsync("/api/v1/optimized/clients/bulk-export?createdFrom=1900-01-01&createdTo=1900-01-02");
        var create = await _api.Admin.PostAsJsonAsync("/api/v1/clients", new { name = "Admin Made", email = ClientsApiDriver.UniqueEmail(), programType = "PRIME" });

        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
    }

    /// <summary>
    /// One problem of each writer: the handler (404), FastEndpoints' validation of a body, of a query
    /// and of JSON (400), authentication (401) and authorization (403).
    /// </summary>
    public static TheoryData<string, string, string?, string?, int> Problems => new()
    {
        { "GET", "/api/v1/clients/9000000000", null, "reader", 404 },
        { "POST", "/api/v1/clients", """{"name":"","email":"not-an-email","programType":"PRIME"}""", "writer", 400 },
        { "GET", "/api/v1/optimized/clients/search/advanced?limit=500", null, "reader", 400 },
        { "POST", "/api/v1/optimized/clients/by-ids", "{not json", "reader", 400 },
        { "GET", "/api/v1/optimized/clients/dashboard", null, null, 401 },
        { "DELETE", "/api/v1/clients/1", null, "reader", 403 },
    };

    [Theory]
    [MemberData(nameof(Problems))]
    public async Task EveryProblemNamesTheCallersTraceWhoeverWritesIt(string method, string path, string? body, string? role, int status)
    {
        var trace = Problem.NewTraceId();
        var request = Request(method, path, body);
        request.Headers.Add("traceparent", Problem.TraceParent(trace));

        var response = await (role is null ? _api.Anonymous : stack.CreateClient("clients-api", role)).SendAsync(request);

        (await Problem.ReadAsync(response, (HttpStatusCode)status)).AssertTraceOf(trace);
    }

    private static HttpRequestMessage Request(string method, string path, string? body) =>
        new(new HttpMethod(method), path)
        {
            Content = body is null ? null : new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };
}
