using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace NexusCore.AppHost.Tests.Hostile;

/// <summary>
/// Every request in <c>Hostile/corpus.jsonl</c> (wrong types, huge strings and arrays, deep JSON,
/// invalid UTF-8, control characters, SQL and script payloads, bad cursors, header abuse, oversized
/// bodies, wrong keys, on every route) must get a 4xx problem document and write nothing.
/// Add cases to the file; large bodies use macros: <c>{{repeat:c:N}}</c>, <c>{{repeat-text:s:N}}</c>,
/// <c>{{range:first:N}}</c>, <c>{{items-delete:first:N}}</c>.
/// </summary>
[Collection(StackCollection.Name)]
public sealed partial class HostileInputTests(StackFixture stack)
{
    public static TheoryData<HostileCase> Corpus
    {
        get
        {
            var data = new TheoryData<HostileCase>();
            foreach (var line in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Hostile", "corpus.jsonl")))
            {
                if (!string.IsNullOrWhiteSpace(line))
                {
                    data.Add(JsonSerializer.Deserialize<HostileCase>(line, new JsonSerializerOptions(JsonSerializerDefaults.Web))!);
                }
            }

            return data;
        }
    }

    [Fact]
    public void TheCorpusHoldsAtLeastTwoHundredCasesCoveringEveryRoute()
    {
        var cases = Corpus.Cast<object[]>().Select(row => (HostileCase)row[0]).ToList();

        Assert.True(cases.Count >= 200, $"{cases.Count} cases");
        foreach (var route in new[]
        {
            "/api/v1/clients", "/api/v1/clients/", "/api/v1/optimized/clients/dashboard", "/api/v1/optimized/clients/search/advanced",
            "/api/v1/optimized/clients/batch", "/api/v1/optimized/clients/analytics/performance", "/api/v1/optimized/clients/bulk-export",
            "/api/v1/optimized/clients/by-ids", "/api/v1/cache/", "/v1/traces", "/v1/metrics", "/api/v1/performance/",
        })
        {
            Assert.Contains(cases, c => c.Path.StartsWith(route, StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public async Task AHostileRequestGetsA4xxProblemAndWritesNothing(HostileCase hostile)
    {
        var before = await WrittenAsync();
        var client = stack.CreateClient(hostile.Service, hostile.Role);
        var request = new HttpRequestMessage(new HttpMethod(hostile.Method), Expand(hostile.Path));
        var body = hostile.BodyBase64 is { } encoded ? Convert.FromBase64String(encoded)
            : hostile.Body is { } text ? Encoding.UTF8.GetBytes(Expand(text))
            : null;
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(hostile.ContentType ?? "application/json");

            // Large uploads ask first (Expect: 100-continue), so a refusal from the Content-Length does not race the upload.
            request.Headers.ExpectContinue = body.Length > 1024 * 1024;
        }

        foreach (var (name, value) in hostile.Headers ?? [])
        {
            if (!request.Headers.TryAddWithoutValidation(name, Expand(value)))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, Expand(value));
            }
        }

        var response = await client.SendAsync(request);
        var answer = await response.Content.ReadAsStringAsync();

        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{hostile.Name}: {(int)response.StatusCode} {answer[..Math.Min(answer.Length, 300)]}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(answer);
        Assert.Equal((int)response.StatusCode, problem.RootElement.GetProperty("status").GetInt32());
        Assert.StartsWith("https://nexuscore.dev/problems/", problem.RootElement.GetProperty("type").GetString());
        Assert.Equal(before, await WrittenAsync());
    }

    /// <summary>A fingerprint of everything a request could write: clients, their versions, idempotency keys.</summary>
    private async Task<(long Clients, long MaxId, long Versions, long Keys)> WrittenAsync()
    {
        await using var command = stack.ClientsDb.CreateCommand(
            "SELECT (SELECT count(*) FROM clients), (SELECT coalesce(max(id), 0) FROM clients), (SELECT coalesce(sum(version), 0) FROM clients), (SELECT count(*) FROM idempotency_keys)");
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }

    private static string Expand(string text) => Macro().Replace(text, match =>
    {
        var (kind, argument, count) = (match.Groups[1].Value, match.Groups[2].Value, int.Parse(match.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture));
        return kind switch
        {
            "repeat" or "repeat-text" => string.Concat(Enumerable.Repeat(argument, count)),
            "range" => string.Join(',', Enumerable.Range(int.Parse(argument, System.Globalization.CultureInfo.InvariantCulture), count)),
            "items-delete" => string.Join(',', Enumerable.Range(int.Parse(argument, System.Globalization.CultureInfo.InvariantCulture), count).Select(id => $"{{\"op\":\"delete\",\"id\":{id}}}")),
            _ => throw new InvalidOperationException($"Unknown macro {kind}"),
        };
    });

    [GeneratedRegex(@"\{\{(repeat|repeat-text|range|items-delete):(.+?):(\d+)\}\}")]
    private static partial Regex Macro();
}

/// <summary>One hostile request from the corpus.</summary>
public sealed record HostileCase(
    string Name,
    string Service,
    string Method,
    string Path,
    string? Role,
    string? Body,
    string? BodyBase64,
    string? ContentType,
    Dictionary<string, string>? Headers)
{
    public override string ToString() => Name;
}
