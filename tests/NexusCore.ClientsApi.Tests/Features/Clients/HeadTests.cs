using System.Net;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

/// <summary>RFC 9110 §9.3.2: every GET route answers HEAD with the GET's status and headers, and no content.</summary>
[Collection(StackCollection.Name)]
public sealed class HeadTests(ClientsApiStack stack)
{
    private readonly ClientsApiDriver _api = new(stack);

    [Fact]
    public async Task HeadOfAClientHasTheGetsHeadersAndNoContent()
    {
        var client = await _api.CreateOkAsync("Head", ClientsApiDriver.UniqueEmail());
        var get = await _api.Reader.GetAsync($"/api/v1/clients/{client.Id}");

        var head = await _api.Reader.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/v1/clients/{client.Id}"));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(get.Headers.ETag, head.Headers.ETag);
        Assert.Equal(get.Content.Headers.ContentLength, head.Content.Headers.ContentLength);
        Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
        Assert.True(get.Content.Headers.ContentLength > 0);

        // On the wire: the HEAD's header section is followed straight by the next response, no body.
        var wire = await PipelinedAsync($"HEAD /api/v1/clients/{client.Id}", $"GET /api/v1/clients/{client.Id}");
        var first = wire.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", wire, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", wire[(first + 4)..], StringComparison.Ordinal);
        Assert.EndsWith(await get.Content.ReadAsStringAsync(), wire, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HeadRevalidatesWithIfNoneMatchAndAnswers404ForAnUnknownClient()
    {
        var client = await _api.CreateOkAsync("Head revalidated", ClientsApiDriver.UniqueEmail());
        var etag = (await _api.Reader.GetAsync($"/api/v1/clients/{client.Id}")).Headers.ETag!;
        var conditional = new HttpRequestMessage(HttpMethod.Head, $"/api/v1/clients/{client.Id}");
        conditional.Headers.IfNoneMatch.Add(etag);

        var notModified = await _api.Reader.SendAsync(conditional);
        var unknown = await _api.Reader.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/v1/clients/{long.MaxValue}"));

        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await unknown.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task HeadOfAnExportChecksItsRequestWithoutReadingTheTable()
    {
        var before = await ExportQueriesAsync();

        var csv = await _api.Admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/v1/optimized/clients/bulk-export?status=active"));
        var ndjson = new HttpRequestMessage(HttpMethod.Head, "/api/v1/optimized/clients/bulk-export") { Headers = { { "Accept", "application/x-ndjson" } } };
        var ndjsonHead = await _api.Admin.SendAsync(ndjson);
        var bad = await _api.Admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/v1/optimized/clients/bulk-export?status=sleeping"));

        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("attachment; filename=\"clients-", csv.Content.Headers.ContentDisposition?.ToString(), StringComparison.Ordinal);
        Assert.Empty(await csv.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/x-ndjson", ndjsonHead.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(before, await ExportQueriesAsync());
    }

    [Fact]
    public async Task A405ListsHeadWhereverTheRouteHasAGet()
    {
        var client = await _api.Http.PutAsync("/api/v1/clients/1", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        var dashboard = await _api.Http.DeleteAsync("/api/v1/optimized/clients/dashboard");
        var create = await _api.Http.PutAsync("/api/v1/clients", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(["DELETE", "GET", "HEAD", "PATCH"], client.Content.Headers.Allow.Order(StringComparer.Ordinal));
        Assert.Equal(["GET", "HEAD"], dashboard.Content.Headers.Allow.Order(StringComparer.Ordinal));
        Assert.Contains("it allows DELETE, GET, HEAD, PATCH.", (await Problem.ReadAsync(client, HttpStatusCode.MethodNotAllowed)).Detail, StringComparison.Ordinal);
        Assert.Contains("HEAD", create.Content.Headers.Allow);
    }

    /// <summary>Sends the requests on one connection, the last with Connection: close, and returns all that came back.</summary>
    private async Task<string> PipelinedAsync(params string[] requestLines)
    {
        var address = _api.Reader.BaseAddress!;
        var key = _api.Reader.DefaultRequestHeaders.GetValues("X-Api-Key").Single();
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        var text = string.Concat(requestLines.Select((line, i) =>
            $"{line} HTTP/1.1\r\nHost: {address.Authority}\r\nX-Api-Key: {key}\r\n{(i == requestLines.Length - 1 ? "Connection: close\r\n" : "")}\r\n"));
        var stream = tcp.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(text));
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        var read = reader.ReadToEndAsync();
        Assert.Same(read, await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(10))));
        return await read;
    }

    /// <summary>Export statements Postgres ran (each reads every matching client, ordered by id, with no LIMIT).</summary>
    private async Task<long> ExportQueriesAsync() => (await _api.QueryAsync(
        "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements WHERE query LIKE 'SELECT id, name, email, status, program_type, created_at, updated_at, version FROM clients%ORDER BY id'",
        r => r.GetInt64(0)))[0];
}
