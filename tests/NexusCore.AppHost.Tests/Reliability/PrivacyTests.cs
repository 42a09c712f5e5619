using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace NexusCore.AppHost.Tests.Reliability;

[Collection(FaultCollection.Name)]
public sealed class PrivacyTests(FaultStack stack)
{
    private const string Clients = "/api/v1/clients";
    private const string Optimized = "/api/v1/optimized/clients";
    private const string Performance = "/api/v1/performance";

    /// <summary>By-ids' statement, as PerfApi shows it.</summary>
    private const string ByIdsStatement = "SELECT id, name, email, status, program_type, created_at, updated_at, version FROM clients WHERE id = ANY($1)";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Names and emails carrying a random marker go through every ClientsApi route, failures that carry
    /// them included (a duplicate create, a duplicate-email PATCH, an atomic batch that fails on a taken
    /// email, a perItem batch with taken emails, an invalid email); then the marker is looked for, in
    /// any letter case and encoding, in every resource's console output (the services', Postgres',
    /// Redis', the migrator's), every OTLP log, span and metric ClientsApi exported, everything PerfApi
    /// shows of what it stored, every problem document, and every cursor.
    /// </summary>
    [Fact]
    public async Task NamesAndEmailsReachNoLogTelemetryStoredStatementProblemOrCursor()
    {
        // Letters only: any spelling (URL-encoded, lower-cased by Postgres' lower(email)) keeps them.
        var marker = string.Concat(Enumerable.Range(0, 14).Select(_ => (char)('A' + RandomNumberGenerator.GetInt32(26))));
        var name = $"Zoë {marker} Privacy";
        var email = $"Zoe.{marker}@Privacy.example";
        var writer = stack.CreateClient("clients-api", "writer");
        var reader = stack.CreateClient("clients-api", "reader");
        var admin = stack.CreateClient("clients-api", "admin");
        var findings = new List<string>();
        var cursors = new List<(string Cursor, string[] Holds)>();

        // PerfApi's count of the by-ids statement now: it has ingested the workload's spans once it
        // counts the workload's two by-ids reads (both uncached), the second of them its last request.
        var perf = stack.CreateClient("perf-api", "reader");
        var byIdsRuns = await StatementCountAsync(perf, ByIdsStatement);

        // Every answer that is not a success is a problem document: its detail and errors must not carry the values.
        async Task<HttpResponseMessage> Call(string what, HttpStatusCode expected, Func<Task<HttpResponseMessage>> send)
        {
            var response = await SendWithinRateLimitAsync(send);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == expected, $"{what}: expected {(int)expected}, got {(int)response.StatusCode}: {body}");
            if (!response.IsSuccessStatusCode)
            {
                Scan(findings, $"problem of {what}", body, marker);
            }

            foreach (var header in response.Headers.Concat(response.Content.Headers))
            {
                Scan(findings, $"header {header.Key} of {what}", string.Join(", ", header.Value), marker);
            }

            return response;
        }

        async Task<T> Read<T>(string what, HttpStatusCode expected, Func<Task<HttpResponseMessage>> send) =>
            JsonSerializer.Deserialize<T>(await (await Call(what, expected, send)).Content.ReadAsStringAsync(), Json)!;

        // A name-sorted page's cursor holds the last item's position: its name must not be readable in
        // it (nor the marker, nor the email), whoever the client is.
        async Task<Page> PageOf(string what, string url)
        {
            var page = await Read<Page>(what, HttpStatusCode.OK, () => reader.GetAsync(url));
            if (page.NextCursor is { } next)
            {
                var last = page.Items[^1];
                cursors.Add((next, [marker, last.Name, last.Email]));
            }

            return page;
        }

        var first = await Read<IdOnly>("create", HttpStatusCode.Created, () => writer.PostAsJsonAsync(Clients, new { name, email, programType = "PRIME" }));
        var secondEmail = $"Second.{marker}@Privacy.example";
        var second = await Read<IdOnly>("second create", HttpStatusCode.Created, () => writer.PostAsJsonAsync(Clients, new { name = name + " Two", email = secondEmail, programType = "LONGEVITY" }));
        var otherEmail = $"Other.{marker}@Privacy.example";
        await Call("third create", HttpStatusCode.Created, () => writer.PostAsJsonAsync(Clients, new { name = name + " Other", email = otherEmail, programType = "PRIME" }));
        await Call("duplicate create", HttpStatusCode.Conflict, () => writer.PostAsJsonAsync(Clients, new { name, email = email.ToUpperInvariant(), programType = "PRIME" }));
        await Call("invalid email", HttpStatusCode.BadRequest, () => writer.PostAsJsonAsync(Clients, new { name, email = $"not-an-email-{marker}", programType = "PRIME" }));
        await Call("get", HttpStatusCode.OK, () => reader.GetAsync($"{Clients}/{first.Id}"));
        await Call("patch", HttpStatusCode.OK, () => writer.PatchAsJsonAsync($"{Clients}/{first.Id}", new { name = name + " Renamed" }));
        await Call("duplicate-email patch", HttpStatusCode.Conflict, () => writer.PatchAsJsonAsync($"{Clients}/{second.Id}", new { email = email.ToLowerInvariant() }));
        await Call("patch of an old version", HttpStatusCode.PreconditionFailed, () => SendAsync(writer, HttpMethod.Patch, $"{Clients}/{second.Id}", new { name }, ("If-Match", "W/\"1.99\"")));

        // Name-sorted pages, each with a cursor holding a name: list (the whole table) and search by the name.
        var listed = await PageOf("list by name", $"{Clients}?sort=name&limit=1");
        await PageOf("list by name, next page", $"{Clients}?sort=name&limit=1&cursor={Uri.EscapeDataString(listed.NextCursor!)}");
        var searched = await PageOf("search by name", $"{Optimized}/search/advanced?q={Uri.EscapeDataString(name)}&sort=name&limit=1&count=exact");
        Assert.StartsWith(name, searched.Items.Single().Name, StringComparison.Ordinal);
        await PageOf("search by name, next page", $"{Optimized}/search/advanced?q={Uri.EscapeDataString(name)}&sort=name&limit=1&cursor={Uri.EscapeDataString(searched.NextCursor!)}");
        await PageOf("search by marker, name descending", $"{Optimized}/search/advanced?q={marker}&sort=name&order=desc&limit=1");
        await PageOf("search by email", $"{Optimized}/search/advanced?q={Uri.EscapeDataString(email)}");
        await Call("search with a forged cursor", HttpStatusCode.BadRequest, () => reader.GetAsync($"{Optimized}/search/advanced?q={marker}&cursor={marker}"));

        var atomicEmail = $"Atomic.{marker}@Privacy.example";
        await Call("atomic batch with a taken email", HttpStatusCode.Conflict, () => writer.PostAsJsonAsync($"{Optimized}/batch", new
        {
            items = new object[]
            {
                new { op = "create", name, email = atomicEmail, programType = "PRIME" },
                new { op = "create", name, email = email.ToLowerInvariant(), programType = "PRIME" },
            },
        }));
        Assert.Equal(0L, await CountByEmailAsync(atomicEmail));
        var perItem = await Read<BatchResult>("perItem batch with taken emails", HttpStatusCode.OK, () => writer.PostAsJsonAsync($"{Optimized}/batch", new
        {
            mode = "perItem",
            items = new object[]
            {
                new { op = "upsert", name, email, programType = "LONGEVITY" },
                new { op = "create", name, email = $"Third.{marker}@Privacy.example", programType = "PRIME" },
                new { op = "create", name, email = secondEmail.ToUpperInvariant(), programType = "PRIME" },
                new { op = "update", id = second.Id, email = otherEmail.ToLowerInvariant() },
                new { op = "update", id = second.Id + 1_000_000_000, name },
            },
        }));
        Assert.Equal([200, 201, 409, 409, 404], perItem.Items.Select(r => r.Status));
        foreach (var failed in perItem.Items.Where(r => r.Status >= 400))
        {
            Scan(findings, $"batch item {failed.Index}'s problem", JsonSerializer.Serialize(failed.Problem), marker);
        }

        await Call("by-ids", HttpStatusCode.OK, () => reader.PostAsJsonAsync($"{Optimized}/by-ids", new { ids = new[] { first.Id, second.Id } }));
        await Call("dashboard", HttpStatusCode.OK, () => reader.GetAsync($"{Optimized}/dashboard"));
        await Call("analytics", HttpStatusCode.OK, () => reader.GetAsync($"{Optimized}/analytics/performance?granularity=day"));
        foreach (var type in new[] { "text/csv", "application/x-ndjson" })
        {
            var export = await Call($"export as {type}", HttpStatusCode.OK, () => SendAsync(admin, HttpMethod.Get, $"{Optimized}/bulk-export?q={marker}", null, ("Accept", type)));
            Assert.Contains(marker, await export.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await Call("cache statistics", HttpStatusCode.OK, () => admin.GetAsync("/api/v1/cache/statistics"));
        await Call("delete of an old version", HttpStatusCode.PreconditionFailed, () => SendAsync(writer, HttpMethod.Delete, $"{Clients}/{second.Id}", null, ("If-Match", "W/\"1.99\"")));
        await Call("delete", HttpStatusCode.NoContent, () => writer.DeleteAsync($"{Clients}/{second.Id}"));
        await Call("cache clear", HttpStatusCode.NoContent, () => admin.PostAsync("/api/v1/cache/clear", null));

        // The last requests: a by-ids read no cache holds (see byIdsRuns), and a read of an id nobody
        // has, whose path names this test's request in the spans (OTLP is exported in batches).
        await Call("by-ids, last", HttpStatusCode.OK, () => reader.PostAsJsonAsync($"{Optimized}/by-ids", new { ids = new[] { first.Id, second.Id, first.Id + 1_000_000_000 } }));
        var lastPath = $"{Clients}/{first.Id + 2_000_000_000L + RandomNumberGenerator.GetInt32(1_000_000)}";
        await Call("get of a missing client, last", HttpStatusCode.NotFound, () => reader.GetAsync(lastPath));
        await Eventually.ThatAsync(
            async () => await StatementCountAsync(perf, ByIdsStatement) >= byIdsRuns + 2,
            TimeSpan.FromSeconds(30), "PerfApi counting the workload's by-ids statements", TimeSpan.FromMilliseconds(250));
        await Eventually.ThatAsync(
            () => Task.FromResult(stack.Capture.Contains(lastPath) && stack.Capture.Count("/v1/logs") > 0 && stack.Capture.Count("/v1/metrics") > 0),
            TimeSpan.FromSeconds(30), "the last request's span, logs and metrics reaching the OTLP capture", TimeSpan.FromMilliseconds(200));

        // Everything PerfApi shows of what it stored, to a reader.
        foreach (var route in new[]
        {
            "slow-queries?threshold=0&window=1h&limit=200", "analytics?window=1h", "metrics", "alerts",
            "optimization/recommendations", "indexes", "telemetry/summary",
        })
        {
            var response = await SendWithinRateLimitAsync(() => perf.GetAsync($"{Performance}/{route}"));
            Assert.True(response.IsSuccessStatusCode, $"{route}: {(int)response.StatusCode}");
            Scan(findings, $"PerfApi {route}", await response.Content.ReadAsStringAsync(), marker);
        }

        foreach (var form in PersonalDataForms.TextForms(marker))
        {
            if (stack.Capture.Contains(form.Text))
            {
                findings.Add($"OTLP export ({form.Form}):{Environment.NewLine}{stack.Capture.Where(form.Text)}");
            }
        }

        foreach (var (cursor, holds) in cursors)
        {
            // A very short name would be found by chance in any long token.
            foreach (var secret in holds.Where(h => h.Length >= 6))
            {
                foreach (var form in PersonalDataForms.FoundInToken(cursor, secret))
                {
                    findings.Add($"cursor {cursor} holds '{secret}' ({form})");
                }
            }
        }

        await foreach (var (resource, line) in ConsoleLinesAsync())
        {
            Scan(findings, $"console of {resource}", line, marker);
        }

        Assert.True(cursors.Count >= 4, $"expected a cursor from each name-sorted first page, got {cursors.Count}");
        Assert.True(findings.Count == 0, $"The marker {marker} was found:{Environment.NewLine}{string.Join(Environment.NewLine, findings)}");
    }

    private static void Scan(List<string> findings, string where, string text, string marker)
    {
        var forms = PersonalDataForms.FoundIn(text, marker);
        if (forms.Count > 0)
        {
            var at = text.IndexOf(marker, StringComparison.OrdinalIgnoreCase);
            var excerpt = at < 0 ? text[..Math.Min(text.Length, 300)] : text[Math.Max(0, at - 150)..Math.Min(text.Length, at + marker.Length + 150)];
            findings.Add($"{where} ({string.Join(", ", forms)}): {excerpt}");
        }
    }

    /// <summary>Every line each resource's processes wrote so far (every replica's), read from the orchestrator.</summary>
    private async IAsyncEnumerable<(string Resource, string Line)> ConsoleLinesAsync()
    {
        var model = stack.App.Services.GetRequiredService<DistributedApplicationModel>();
        var read = new List<string>();
        foreach (var resource in model.Resources.Where(r => r is not ParameterResource))
        {
            var lines = await stack.ConsoleLinesAsync(resource, TimeSpan.FromSeconds(20));
            if (lines.Count > 0)
            {
                read.Add(resource.Name);
            }

            foreach (var line in lines)
            {
                yield return (resource.Name, line.Content);
            }
        }

        // The scan means something only if it read the output of the processes that can leak.
        foreach (var resource in new[] { "clients-api", "perf-api", "postgres", "cache" })
        {
            Assert.Contains(resource, read);
        }
    }

    private async Task<long> CountByEmailAsync(string email)
    {
        await using var command = stack.ClientsDb.CreateCommand("SELECT count(*) FROM clients WHERE lower(email) = lower($1)");
        command.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = email });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Runs of <paramref name="statement"/> in the last hour, as PerfApi counts them.</summary>
    private static async Task<long> StatementCountAsync(HttpClient perf, string statement)
    {
        var response = await SendWithinRateLimitAsync(() => perf.GetAsync($"{Performance}/slow-queries?threshold=0&window=1h&limit=200"));
        var queries = (await response.Content.ReadFromJsonAsync<SlowQueries>(Json))!.Queries;
        return queries.Where(q => q.Statement == statement).Sum(q => q.Count);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string url, object? body, (string Name, string Value) header)
    {
        var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation(header.Name, header.Value);
        return client.SendAsync(request);
    }

    /// <summary>The fault stack's rate limits are low (50/s per key, exports 1/s): a 429 wrote nothing and is retried after its Retry-After.</summary>
    private static async Task<HttpResponseMessage> SendWithinRateLimitAsync(Func<Task<HttpResponseMessage>> send)
    {
        for (var attempt = 1; ; attempt++)
        {
            var response = await send();
            if (response.StatusCode != HttpStatusCode.TooManyRequests || attempt == 10)
            {
                return response;
            }

            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
        }
    }

    private sealed record IdOnly(long Id);

    private sealed record Page(List<PageItem> Items, string? NextCursor);

    private sealed record PageItem(long Id, string Name, string Email);

    private sealed record BatchResult(List<BatchItem> Items);

    private sealed record BatchItem(int Index, int Status, JsonElement? Problem);

    private sealed record SlowQueries(List<SlowQuery> Queries);

    private sealed record SlowQuery(string Statement, long Count);
}
