using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

/// <summary>
/// Every route binds one request model, and one rule judges every query string from it: an unknown or
/// repeated parameter is a 400 on every method (writes included, which then write nothing), headers are
/// headers only, and a value that does not bind still names a code.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class RequestModelTests(ClientsApiStack stack)
{
    private readonly ClientsApiDriver _api = new(stack);

    [Fact]
    public async Task AnUnknownParameterOnACreateIs400AndNothingIsWritten()
    {
        // Before issue 26 the create succeeded: only GET routes checked their parameters.
        var email = ClientsApiDriver.UniqueEmail("bogus");

        var response = await _api.Http.PostAsJsonAsync("/api/v1/clients?bogus=1", new { name = "Bogus Param", email, programType = "PRIME" });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal([("bogus", "unknown_parameter")], problem.Errors.Select(e => (e.Name, e.Code)));
        Assert.Equal("'bogus' is not a known parameter: this route takes none.", problem.Detail);
        Assert.Equal(0, await _api.CountByEmailAsync(email));
    }

    [Fact]
    public async Task AnUnknownParameterOnADeleteOrPatchIs400AndTheClientIsUntouched()
    {
        var client = await _api.CreateOkAsync("Kept Client", ClientsApiDriver.UniqueEmail("kept"));

        var delete = await Problem.ReadAsync(await _api.Http.DeleteAsync($"/api/v1/clients/{client.Id}?bogus=1"), HttpStatusCode.BadRequest);
        var patch = await Problem.ReadAsync(
            await _api.Http.PatchAsJsonAsync($"/api/v1/clients/{client.Id}?bogus=1", new { name = "Renamed" }), HttpStatusCode.BadRequest);

        Assert.All([delete, patch], p => Assert.Contains(p.Errors, e => e is { Name: "bogus", Code: "unknown_parameter" }));
        var stored = await _api.QueryAsync("SELECT name, version FROM clients WHERE id = $1", r => (r.GetString(0), r.GetInt32(1)), client.Id);
        Assert.Equal([("Kept Client", 1)], stored);
    }

    [Fact]
    public async Task AQueryValueCannotStandInForABodyFieldOfAWrite()
    {
        // FastEndpoints binds query values to any property of the request model, so ?name= would have renamed the client.
        var email = ClientsApiDriver.UniqueEmail("queryname");

        var response = await _api.Http.PostAsJsonAsync("/api/v1/clients?name=Injected", new { name = "Body Name", email, programType = "PRIME" });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors, e => e is { Name: "name", Code: "unknown_parameter" });
        Assert.Equal(0, await _api.CountByEmailAsync(email));
    }

    [Fact]
    public async Task AnUnknownParameterOnABatchOrByIdsOrCacheClearIs400AndNothingIsWritten()
    {
        var email = ClientsApiDriver.UniqueEmail("bogusbatch");
        var keys = await IdempotencyKeyCountAsync();

        var batch = await _api.Http.PostAsJsonAsync("/api/v1/optimized/clients/batch?bogus=1",
            new { items = new[] { new { op = "create", name = "Bogus Batch", email, programType = "PRIME" } } });
        var byIds = await _api.Reader.PostAsJsonAsync("/api/v1/optimized/clients/by-ids?bogus=1", new { ids = new[] { 1 } });
        var clear = await _api.Admin.PostAsync("/api/v1/cache/clear?bogus=1", null);

        foreach (var response in new[] { batch, byIds, clear })
        {
            var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
            Assert.Contains(problem.Errors, e => e is { Name: "bogus", Code: "unknown_parameter" });
        }

        Assert.Equal(0, await _api.CountByEmailAsync(email));
        Assert.Equal(keys, await IdempotencyKeyCountAsync());
    }

    [Theory]
    [InlineData("/api/v1/clients?limit=1&limit=2", "limit")]
    [InlineData("/api/v1/clients?sort=id&sort=name", "sort")]
    [InlineData("/api/v1/optimized/clients/analytics/performance?granularity=day&granularity=week", "granularity")]
    [InlineData("/api/v1/optimized/clients/bulk-export?q=a&q=b", "q")]
    public async Task ASingleValuedParameterGivenTwiceIs400(string path, string name)
    {
        var problem = await Problem.ReadAsync(await _api.Admin.GetAsync(path), HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors, e => e.Name == name && e.Code == "duplicate_parameter");
    }

    [Fact]
    public async Task AListParameterIsRepeatedAndACommaJoinedOrOtherCaseValueIsRefused()
    {
        var token = ClientsApiDriver.Token();
        var pending = await _api.CreateOkAsync($"Listed {token}", ClientsApiDriver.UniqueEmail(token), "PERFORMANCE", "pending");
        var inactive = await _api.CreateOkAsync($"Listed {token}", ClientsApiDriver.UniqueEmail(token), "PERFORMANCE", "inactive");
        await _api.CreateOkAsync($"Listed {token}", ClientsApiDriver.UniqueEmail(token), "PERFORMANCE", "active");
        const string Search = "/api/v1/optimized/clients/search/advanced";

        var repeated = await ClientsApiDriver.ReadAsync<PageDto>(await _api.Reader.GetAsync($"{Search}?q={token}&status=pending&status=inactive&sort=id&order=asc"));
        var commas = await Problem.ReadAsync(await _api.Reader.GetAsync($"{Search}?q={token}&status=pending,inactive"), HttpStatusCode.BadRequest);
        var upper = await Problem.ReadAsync(await _api.Reader.GetAsync($"/api/v1/clients?status=pending&status=INACTIVE"), HttpStatusCode.BadRequest);
        var program = await Problem.ReadAsync(await _api.Reader.GetAsync($"{Search}?programType=prime"), HttpStatusCode.BadRequest);

        Assert.Equal([pending.Id, inactive.Id], repeated.Items.Select(c => c.Id));
        Assert.Equal(("status", "status_unknown"), (commas.Errors.Single().Name, commas.Errors.Single().Code));
        Assert.Contains("repeat the parameter", commas.Errors.Single().Reason);
        Assert.Equal("status_unknown", upper.Errors.Single().Code);
        Assert.Equal("program_type_unknown", program.Errors.Single().Code);
    }

    [Theory]
    [InlineData("/api/v1/clients?Limit=5", "Limit")]
    [InlineData("/api/v1/clients?STATUS=active", "STATUS")]
    [InlineData("/api/v1/optimized/clients/analytics/performance?From=2025-01-01", "From")]
    public async Task AParameterNameIsMatchedExactly(string path, string name)
    {
        var problem = await Problem.ReadAsync(await _api.Reader.GetAsync(path), HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors, e => e.Name == name && e.Code == "unknown_parameter");
    }

    [Theory]
    [InlineData("/api/v1/clients?sort=2", "sort", "sort_unknown")]
    [InlineData("/api/v1/clients?sort=CreatedAt", "sort", "sort_unknown")]
    [InlineData("/api/v1/clients?order=1", "order", "order_unknown")]
    [InlineData("/api/v1/optimized/clients/search/advanced?count=2", "count", "count_mode_unknown")]
    [InlineData("/api/v1/optimized/clients/analytics/performance?granularity=1", "granularity", "granularity_unknown")]
    [InlineData("/api/v1/optimized/clients/analytics/performance?from=2025-1-5", "from", "date_invalid")]
    [InlineData("/api/v1/optimized/clients/analytics/performance?to=31%20March%202025", "to", "date_invalid")]
    public async Task EnumAndDateParametersTakeTheirDocumentedFormsOnly(string path, string name, string code)
    {
        // .NET's own parsing reads an enum's number or any-case name, and many date forms.
        var problem = await Problem.ReadAsync(await _api.Reader.GetAsync(path), HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors, e => e.Name == name && e.Code == code);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("%201")]
    [InlineData("99999999999999999999")]
    [InlineData("-1")]
    [InlineData("0")]
    public async Task ABadRouteIdIs400WithACodeOnEveryRouteThatTakesOne(string id)
    {
        // Before issue 26 these errors had no code, and -1 and 0 were 404s.
        var path = $"/api/v1/clients/{id}";

        var get = await Problem.ReadAsync(await _api.Reader.GetAsync(path), HttpStatusCode.BadRequest);
        var patch = await Problem.ReadAsync(await _api.Http.PatchAsJsonAsync(path, new { name = "Renamed" }), HttpStatusCode.BadRequest);
        var delete = await Problem.ReadAsync(await _api.Http.DeleteAsync(path), HttpStatusCode.BadRequest);

        Assert.All([get, patch, delete], p => Assert.Contains(p.Errors, e => e is { Name: "id", Code: "id_invalid" }));
    }

    [Fact]
    public async Task AnIfMatchInAPatchBodyIsAnUnknownFieldAndChangesNothing()
    {
        // It used to work as the If-Match header: a stale tag in the body refused the change, a current one applied it.
        var client = await _api.CreateOkAsync("Header Only", ClientsApiDriver.UniqueEmail("ifmatch"));
        var body = $$"""{"name":"Body Renamed","ifMatch":"\"{{client.Id}}.1\""}""";

        var problem = await Problem.ReadAsync(await SendJsonAsync(HttpMethod.Patch, $"/api/v1/clients/{client.Id}", body), HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors, e => e is { Name: "ifMatch", Code: "unknown_field" });
        var stored = await _api.QueryAsync("SELECT name, version FROM clients WHERE id = $1", r => (r.GetString(0), r.GetInt32(1)), client.Id);
        Assert.Equal([("Header Only", 1)], stored);
    }

    [Fact]
    public async Task AnIfMatchInADeleteBodyIsAnUnknownFieldAndDeletesNothing()
    {
        var client = await _api.CreateOkAsync("Delete Header Only", ClientsApiDriver.UniqueEmail("ifmatchdel"));

        var response = await SendJsonAsync(HttpMethod.Delete, $"/api/v1/clients/{client.Id}", $$"""{"ifMatch":"\"{{client.Id}}.7\""}""");

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors, e => e is { Name: "ifMatch", Code: "unknown_field" });
        Assert.Equal(1, await _api.CountByEmailAsync(client.Email));
    }

    [Fact]
    public async Task AnIdempotencyKeyInABatchBodyIsAnUnknownFieldAndNothingIsWritten()
    {
        var email = ClientsApiDriver.UniqueEmail("idemkey");
        var keys = await IdempotencyKeyCountAsync();
        var body = $$"""{"idempotencyKey":"k-{{Guid.NewGuid():N}}","items":[{"op":"create","name":"Body Key","email":"{{email}}","programType":"PRIME"}]}""";

        var problem = await Problem.ReadAsync(await SendJsonAsync(HttpMethod.Post, "/api/v1/optimized/clients/batch", body), HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors, e => e is { Name: "idempotencyKey", Code: "unknown_field" });
        Assert.Equal(0, await _api.CountByEmailAsync(email));
        Assert.Equal(keys, await IdempotencyKeyCountAsync());
    }

    [Fact]
    public async Task ARouteIdInAPatchBodyIsAnUnknownField()
    {
        var client = await _api.CreateOkAsync("Route Id Only", ClientsApiDriver.UniqueEmail("routeid"));

        var response = await SendJsonAsync(HttpMethod.Patch, $"/api/v1/clients/{client.Id}", $$"""{"id":{{client.Id + 1}},"name":"Moved"}""");

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors, e => e is { Name: "id", Code: "unknown_field" });
        Assert.Equal(1, await _api.CountByEmailAsync(client.Email));
    }

    [Fact]
    public async Task AHeaderValueThatIsNotUtf8IsAProblemNamingTheHeaderAndNothingIsWritten()
    {
        // Kestrel refused it while parsing, with a bare 400 and no problem document.
        var email = ClientsApiDriver.UniqueEmail("latin1");
        using var handler = new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.Latin1 };
        using var http = new HttpClient(handler) { BaseAddress = _api.Http.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/clients")
        {
            Content = new StringContent($$"""{"name":"Latin One","email":"{{email}}","programType":"PRIME"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("X-Api-Key", stack.ApiKey("writer"));
        request.Headers.TryAddWithoutValidation("X-Note", "caf\u00e9 \u00ff"); // 0xE9 and 0xFF on the wire: not UTF-8

        var problem = await Problem.ReadAsync(await http.SendAsync(request), HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors, e => e is { Name: "X-Note", Code: "header_invalid" });
        Assert.Equal(0, await _api.CountByEmailAsync(email));
    }

    [Fact]
    public async Task AUtf8HeaderValueIsStillRead()
    {
        var created = await _api.CreateOkAsync("Utf8 Header", ClientsApiDriver.UniqueEmail("utf8"));
        using var handler = new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 };
        using var http = new HttpClient(handler) { BaseAddress = _api.Http.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/clients/{created.Id}");
        request.Headers.TryAddWithoutValidation("X-Api-Key", stack.ApiKey("reader"));
        request.Headers.TryAddWithoutValidation("X-Note", "caf\u00e9");

        var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private Task<HttpResponseMessage> SendJsonAsync(HttpMethod method, string path, string json) =>
        _api.Http.SendAsync(new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") });

    private async Task<long> IdempotencyKeyCountAsync() =>
        (await _api.QueryAsync("SELECT count(*) FROM idempotency_keys", r => r.GetInt64(0)))[0];
}
