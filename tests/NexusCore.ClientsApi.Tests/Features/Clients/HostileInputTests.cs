using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using NexusCore.Testing.Hostile;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

/// <summary>
/// The hostile corpus's ClientsApi cases (<see cref="HostileCorpus"/>) against ClientsApi's own stack, and the inputs
/// a black-box fuzz of the running API answered with a 500 (or a bare status, or a full-table read) that need more
/// than one request to state: dates at the ends of the calendar, charsets read, ids and cursors of clients created
/// here, substring patterns the trigram index cannot look up. Each is a problem naming the input, or an ordinary
/// answer. Cases of one request go in the corpus, which the AppHost's tests also run end to end.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class HostileInputTests(ClientsApiStack stack)
{
    private const string Search = "/api/v1/optimized/clients/search/advanced";
    private const string Export = "/api/v1/optimized/clients/bulk-export";
    private const string Analytics = "/api/v1/optimized/clients/analytics/performance";
    private readonly ClientsApiDriver _api = new(stack);

    public static TheoryData<HostileCase> Corpus => HostileCorpus.For("clients-api");

    [Theory]
    [MemberData(nameof(Corpus))]
    public Task AHostileRequestGetsA4xxProblemAndWritesNothing(HostileCase hostile) => HostileCorpus.AssertRefusedAsync(stack, hostile);

    [Theory]
    [InlineData("createdTo")]
    [InlineData("updatedTo")]
    public async Task TheCalendarsLastDayIsAnUpperBoundThatIncludesEveryClient(string bound)
    {
        var token = ClientsApiDriver.Token();
        var client = await _api.CreateOkAsync($"Lastday {token}", ClientsApiDriver.UniqueEmail(token));

        var page = await ClientsApiDriver.ReadAsync<PageDto>(await _api.Reader.GetAsync($"{Search}?q={token}&{bound}=9999-12-31&count=exact"));
        var export = await _api.Admin.GetAsync($"{Export}?q={token}&{bound}=9999-12-31");
        var csv = await export.Content.ReadAsStringAsync();

        Assert.Equal([client.Id], page.Items.Select(c => c.Id));
        Assert.Equal(1, page.Count);
        Assert.True(export.StatusCode == HttpStatusCode.OK, csv);
        Assert.Contains(client.Email, csv);
    }

    [Theory]
    [InlineData("to=9999-12-31", "day", "9999-12-02", "9999-12-31", 30)]
    [InlineData("from=9999-12-01&to=9999-12-31&granularity=month", "month", "9999-12-01", "9999-12-01", 1)]
    [InlineData("from=9999-12-20&to=9999-12-31&granularity=week", "week", "9999-12-20", "9999-12-27", 2)]
    public async Task AnalyticsRunsToTheCalendarsLastDay(string query, string granularity, string first, string last, int periods)
    {
        var response = await _api.Reader.GetAsync($"{Analytics}?{query}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);

        using var json = JsonDocument.Parse(text);
        var starts = json.RootElement.GetProperty("newClients").EnumerateArray().Select(p => p.GetProperty("period").GetString()).ToList();
        Assert.Equal(granularity, json.RootElement.GetProperty("granularity").GetString());
        Assert.Equal(periods, starts.Count);
        Assert.Equal((first, last), (starts[0], starts[^1]));
        Assert.All(json.RootElement.GetProperty("newClients").EnumerateArray(), p => Assert.Equal(0, p.GetProperty("total").GetInt64()));
    }

    [Theory]
    [InlineData("application/json; charset=\"utf-8\"")]
    [InlineData("application/json; charset=UTF8")]
    [InlineData("application/json;charset=utf-8")]
    public async Task AQuotedOrAliasedUtf8CharsetIsRead(string contentType)
    {
        var email = ClientsApiDriver.UniqueEmail("charset");
        var response = await PostRawAsync("/api/v1/clients", $$"""{"name":"Charset Ok","email":"{{email}}","programType":"PRIME"}""", contentType);

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        Assert.Equal(1, await _api.CountByEmailAsync(email));
    }

    [Fact]
    public async Task ABodyWithoutContentTypeIs415WithAProblemDocument()
    {
        var email = ClientsApiDriver.UniqueEmail("notype");
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes($$"""{"name":"No Type","email":"{{email}}","programType":"PRIME"}"""));

        var problem = await Problem.ReadAsync(await _api.Http.PostAsync("/api/v1/clients", content), HttpStatusCode.UnsupportedMediaType);

        Assert.Contains("Content-Type", problem.Detail);
        Assert.Equal(0, await _api.CountByEmailAsync(email));
    }

    [Fact]
    public async Task RoutingsOwnAnswersAndSeveralErrorsStillSayWhatWentWrong()
    {
        var method = await Problem.ReadAsync(await _api.Http.PutAsync("/api/v1/clients/1", JsonContent.Create(new { name = "x" })), HttpStatusCode.MethodNotAllowed);
        var route = await Problem.ReadAsync(await _api.Reader.GetAsync("/api/v1/no-such-route"), HttpStatusCode.NotFound);
        var multipart = await Problem.ReadAsync(
            await _api.Http.PostAsync("/api/v1/clients", new MultipartFormDataContent { { new StringContent("x"), "name" } }), HttpStatusCode.UnsupportedMediaType);
        var several = await Problem.ReadAsync(await PostRawAsync("/api/v1/clients", "{}", "application/json"), HttpStatusCode.BadRequest);

        Assert.StartsWith("PUT is not allowed on /api/v1/clients/1; it allows ", method.Detail);
        Assert.Contains("PATCH", method.Detail);
        Assert.Equal("No route matches GET /api/v1/no-such-route.", route.Detail);
        Assert.Contains("multipart/form-data", multipart.Detail);
        Assert.StartsWith($"{several.Errors.Count} problems: ", several.Detail);
        Assert.True(several.Errors.Count > 1);
    }

    [Theory]
    [InlineData("?{0}?{1}?")]
    [InlineData("%{0}%{1}%")]
    [InlineData("a{0}:{1}*")]
    public async Task AQueryWithoutThreeLettersOrDigitsInARowNeverSendsTheSubstringMatch(string shape)
    {
        // With no such run the trigram index has nothing to look up, and the LIKE would read every row.
        var q = string.Format(System.Globalization.CultureInfo.InvariantCulture, shape, Random.Shared.Next(10), Random.Shared.Next(10));
        var (substring, words) = (await SearchCallsAsync(substring: true), await SearchCallsAsync(substring: false));

        var response = await _api.Reader.GetAsync($"{Search}?q={Uri.EscapeDataString(q)}&count=exact");
        var page = await ClientsApiDriver.ReadAsync<PageDto>(response);

        Assert.Equal(substring, await SearchCallsAsync(substring: true));
        Assert.True(await SearchCallsAsync(substring: false) > words, "the search reached Postgres as a whole-word match");
        Assert.Equal(page.Items.Count, page.Count);
    }

    [Fact]
    public async Task ThreeLettersInARowStillMatchAnyPartOfANameOrEmail()
    {
        var token = ClientsApiDriver.Token();
        var client = await _api.CreateOkAsync($"Sub{token}string", ClientsApiDriver.UniqueEmail("sub"));
        var before = await SearchCallsAsync(substring: true);

        var page = await ClientsApiDriver.ReadAsync<PageDto>(await _api.Reader.GetAsync($"{Search}?q={token[2..]}"));

        Assert.Equal([client.Id], page.Items.Select(c => c.Id));
        Assert.True(await SearchCallsAsync(substring: true) > before);
    }

    [Theory]
    [InlineData("%201")]
    [InlineData("1%20")]
    [InlineData("+1")]
    [InlineData("1.0")]
    [InlineData("0x1")]
    [InlineData("99999999999999999999")]
    public async Task AClientIdIsDigitsOnlyOnEveryRouteThatTakesOne(string id)
    {
        // .NET's number parsing read " 1", "1 " and "+1" as 1: the first three answered client 1.
        var client = await _api.CreateOkAsync("Strict Id", ClientsApiDriver.UniqueEmail("strictid"));
        var path = $"/api/v1/clients/{id.Replace("1", client.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)}";

        var get = await Problem.ReadAsync(await _api.Reader.GetAsync(path), HttpStatusCode.BadRequest);
        var patch = await Problem.ReadAsync(await _api.Http.PatchAsJsonAsync(path, new { name = "Renamed" }), HttpStatusCode.BadRequest);
        var delete = await Problem.ReadAsync(await _api.Admin.DeleteAsync(path), HttpStatusCode.BadRequest);

        Assert.All([get, patch, delete], p => Assert.Contains(p.Errors, e => e.Name == "id" && e.Reason.StartsWith("'id' must be a whole number written in digits", StringComparison.Ordinal)));
        var stored = await _api.QueryAsync("SELECT name, version FROM clients WHERE id = $1", r => (r.GetString(0), r.GetInt32(1)), client.Id);
        Assert.Equal([("Strict Id", 1)], stored);
    }

    [Fact]
    public async Task ABatchItemsIdAsAStringIs400AndNothingIsDeleted()
    {
        var client = await _api.CreateOkAsync("String Id", ClientsApiDriver.UniqueEmail("stringid"));

        var problem = await Problem.ReadAsync(await PostBatchAsync($$"""{"items":[{"op":"delete","id":"{{client.Id}}"}]}"""), HttpStatusCode.BadRequest);

        Assert.Contains(problem.Errors, e => e.Name == "items[0].id" && e.Code == "invalid_type");
        Assert.Equal(1, await _api.CountByEmailAsync(client.Email));
    }

    [Fact]
    public async Task ACursorHasOneSpellingPaddingOrOtherBitsAreRefused()
    {
        var token = ClientsApiDriver.Token();
        for (var i = 0; i < 3; i++)
        {
            await _api.CreateOkAsync($"Cursor {token} {i}", ClientsApiDriver.UniqueEmail("cursor"));
        }

        var first = await ClientsApiDriver.ReadAsync<PageDto>(await _api.Reader.GetAsync($"{Search}?q={token}&limit=1&count=none"));
        var cursor = first.NextCursor!;
        var signature = cursor[(cursor.IndexOf('.', StringComparison.Ordinal) + 1)..];

        var next = await _api.Reader.GetAsync($"{Search}?q={token}&limit=1&count=none&cursor={cursor}");
        var padded = await Problem.ReadAsync(await _api.Reader.GetAsync($"{Search}?q={token}&limit=1&count=none&cursor={cursor}%3D%3D"), HttpStatusCode.BadRequest);
        var otherBits = await Problem.ReadAsync(
            await _api.Reader.GetAsync($"{Search}?q={token}&limit=1&count=none&cursor={cursor[..^1]}{NextInAlphabet(cursor[^1])}"), HttpStatusCode.BadRequest);

        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(22, signature.Length); // 16 bytes: "==" is exactly its padding, and its last character has 4 unused bits
        Assert.All([padded, otherBits], p => Assert.Contains(p.Errors, e => e.Name == "cursor"));
    }

    [Fact]
    public async Task MoreHeaderFieldsThanTheLimitAre431SayingHowMany()
    {
        var email = ClientsApiDriver.UniqueEmail("headers");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/clients")
        {
            Content = new StringContent($$"""{"name":"Many Headers","email":"{{email}}","programType":"PRIME"}""", Encoding.UTF8, "application/json"),
        };
        for (var i = 0; i < 150; i++)
        {
            request.Headers.TryAddWithoutValidation($"X-Field-{i}", "1");
        }

        // 150 fields and the client's own: over the stated 100, under Kestrel's own limit (twice it).
        var problem = await Problem.ReadAsync(await _api.Http.SendAsync(request), HttpStatusCode.RequestHeaderFieldsTooLarge);

        Assert.Matches("^The request has 15[0-9] header fields; this API takes at most 100[.]$", problem.Detail);
        Assert.Equal(0, await _api.CountByEmailAsync(email));
    }

    /// <summary>A base64url character that decodes to the same leading bits of the last byte but different unused ones.</summary>
    private static char NextInAlphabet(char c)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        return Alphabet[Alphabet.IndexOf(c, StringComparison.Ordinal) + 1];
    }

    /// <summary>Executions of text searches with (or without) the trigram substring match, from pg_stat_statements.</summary>
    private async Task<long> SearchCallsAsync(bool substring) =>
        (await _api.QueryAsync(
            "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements "
            + "WHERE query LIKE '%websearch_to_tsquery%' AND (query LIKE '%LIKE%') = $1 AND query NOT LIKE '%pg_stat_statements%'",
            r => r.GetInt64(0), substring))[0];

    private Task<HttpResponseMessage> PostBatchAsync(string body) => PostRawAsync("/api/v1/optimized/clients/batch", body, "application/json");

    private Task<HttpResponseMessage> PostRawAsync(string route, string body, string contentType)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return _api.Admin.PostAsync(route, content);
    }
}
