using System.Net;
using System.Net.Http.Json;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

[Collection(StackCollection.Name)]
public sealed class ByIdsTests(ClientsApiStack stack)
{
    private readonly ClientsApiDriver _api = new(stack);

    [Fact]
    public async Task ClientsComeBackInRequestOrderOnceEachWithTheMissingIdsListed()
    {
        var a = await _api.CreateOkAsync("By Id A", ClientsApiDriver.UniqueEmail());
        var b = await _api.CreateOkAsync("By Id B", ClientsApiDriver.UniqueEmail());
        var c = await _api.CreateOkAsync("By Id C", ClientsApiDriver.UniqueEmail());
        var missing = long.MaxValue - 1;

        var response = await _api.Reader.PostAsJsonAsync("/api/v1/optimized/clients/by-ids", new { ids = new[] { c.Id, missing, a.Id, c.Id, b.Id } });

        var result = await ClientsApiDriver.ReadAsync<ByIdsDto>(response);
        Assert.Equal([c, a, b], result.Items);
        Assert.Equal([missing], result.Missing);
    }

    [Fact]
    public async Task ByIdsAndSearchPagesAnswerTheirDocumentedFieldsOnly()
    {
        // The row count the cache's telemetry reads was once serialized too (an undocumented "rows").
        var client = await _api.CreateOkAsync("Fields Only", ClientsApiDriver.UniqueEmail());

        var byIds = await FieldsAsync(await _api.Reader.PostAsJsonAsync("/api/v1/optimized/clients/by-ids", new { ids = new[] { client.Id } }));
        var page = await FieldsAsync(await _api.Reader.GetAsync($"/api/v1/optimized/clients/search/advanced?q={Uri.EscapeDataString(client.Email)}&count=exact"));
        var document = System.Text.Json.JsonDocument.Parse(await _api.Reader.GetStringAsync("/swagger/v1/swagger.json")).RootElement;
        var schemas = document.GetProperty("components").GetProperty("schemas");

        Assert.Equal(["items", "missing"], byIds);
        Assert.Equal(["count", "countMode", "items", "nextCursor"], page);
        Assert.Equal(byIds, SchemaFields(schemas, "NexusCoreClientsApiFeaturesClientsByIdsResponse"));
        Assert.Equal(page, SchemaFields(schemas, "NexusCoreClientsApiFeaturesClientsQueryClientPage"));
    }

    [Fact]
    public async Task ByIdsIsAPostSoItHasNoETagAndIgnoresIfNoneMatch()
    {
        // RFC 9110 §13.1.2: a 304 answers only GET and HEAD; this API once sent one to a POST by-ids.
        var client = await _api.CreateOkAsync("No ETag", ClientsApiDriver.UniqueEmail());
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/optimized/clients/by-ids") { Content = JsonContent.Create(new { ids = new[] { client.Id } }) };
        request.Headers.TryAddWithoutValidation("If-None-Match", "*");

        var response = await _api.Reader.SendAsync(request);

        var result = await ClientsApiDriver.ReadAsync<ByIdsDto>(response);
        Assert.Equal([client], result.Items);
        Assert.Null(response.Headers.ETag);
    }

    private static async Task<List<string>> FieldsAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return [.. body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];
    }

    private static List<string> SchemaFields(System.Text.Json.JsonElement schemas, string name) =>
        [.. schemas.GetProperty(name).GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];

    [Theory]
    [InlineData(0, "ids_required")]
    [InlineData(1001, "too_many_ids")]
    public async Task NoIdsOrMoreThanAThousandIs400(int count, string code)
    {
        var response = await _api.Reader.PostAsJsonAsync("/api/v1/optimized/clients/by-ids", new { ids = Enumerable.Range(1, count).ToArray() });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors, e => e.Name == "ids" && e.Code == code);
    }

    [Theory]
    [InlineData("{\"ids\":[1,-2]}", "ids", "id_invalid")]
    [InlineData("{\"ids\":[\"one\"]}", "ids[0]", "invalid_type")]
    [InlineData("{\"ids\":5}", "ids", "invalid_type")]
    public async Task IdsThatAreNotPositiveNumbersAre400(string body, string name, string code)
    {
        var response = await _api.Reader.PostAsync("/api/v1/optimized/clients/by-ids", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors, e => e.Name == name && e.Code == code);
    }

    [Fact]
    public async Task AThousandIdsAreServedInOneRequest()
    {
        var ids = await _api.QueryAsync("SELECT id FROM clients ORDER BY id DESC LIMIT 1000", r => r.GetInt64(0));

        var result = await ClientsApiDriver.ReadAsync<ByIdsDto>(await _api.Reader.PostAsJsonAsync("/api/v1/optimized/clients/by-ids", new { ids }));

        Assert.Equal(ids, result.Items.Select(c => c.Id));
        Assert.Empty(result.Missing);
    }
}

internal sealed record ByIdsDto(List<ClientDto> Items, List<long> Missing);
