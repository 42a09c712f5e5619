using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;

namespace NexusCore.Testing.Hostile;

/// <summary>
/// The one hostile-input corpus, <c>Hostile/corpus.jsonl</c> (wrong types, huge strings and arrays, deep JSON,
/// invalid UTF-8, control characters, SQL and script payloads, bad cursors, bad dates, charsets, header abuse,
/// oversized bodies, wrong keys, on every route): each request must get a 4xx problem document and write nothing,
/// and a case that states more (<see cref="HostileCase.Status"/>, <see cref="HostileCase.Errors"/>, its detail or type)
/// must get that too. ClientsApi's tests run its ClientsApi cases against their own stack; the AppHost's tests run
/// every case against the whole stack. Add cases to the file; large bodies use macros: <c>{{repeat:c:N}}</c>,
/// <c>{{repeat-text:s:N}}</c>, <c>{{range:first:N}}</c>, <c>{{items-delete:first:N}}</c>.
/// </summary>
public static partial class HostileCorpus
{
    private static readonly Lazy<IReadOnlyList<HostileCase>> All = new(() => File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Hostile", "corpus.jsonl"))
        .Where(line => !string.IsNullOrWhiteSpace(line))
        .Select(line => JsonSerializer.Deserialize<HostileCase>(line, new JsonSerializerOptions(JsonSerializerDefaults.Web))!)
        .ToList());

    public static IReadOnlyList<HostileCase> Cases => All.Value;

    /// <summary>The cases of the given services, as theory data.</summary>
    public static TheoryData<HostileCase> For(params string[] services)
    {
        var data = new TheoryData<HostileCase>();
        foreach (var hostile in Cases.Where(c => services.Contains(c.Service, StringComparer.Ordinal)))
        {
            data.Add(hostile);
        }

        return data;
    }

    /// <summary>Sends the case to <paramref name="stack"/> and asserts a 4xx problem (the one it states, if any) and that nothing was written.</summary>
    public static async Task AssertRefusedAsync(StackFixture stack, HostileCase hostile)
    {
        var before = await WrittenAsync(stack);
        var client = stack.CreateClient(hostile.Service, hostile.Role);
        using var request = new HttpRequestMessage(new HttpMethod(hostile.Method), Expand(hostile.Path));
        var body = hostile.BodyBase64 is { } encoded ? Convert.FromBase64String(encoded)
            : hostile.Body is { } text ? Encoding.UTF8.GetBytes(Expand(text))
            : null;
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            var contentType = hostile.ContentType ?? "application/json";
            if (MediaTypeHeaderValue.TryParse(contentType, out var parsed))
            {
                request.Content.Headers.ContentType = parsed;
            }
            else
            {
                // A media type .NET cannot parse is sent as written: the service must refuse it, not the client.
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }

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
        if (hostile.Status is { } status)
        {
            Assert.True((int)response.StatusCode == status, $"{hostile.Name}: expected {status}, got {(int)response.StatusCode} {answer[..Math.Min(answer.Length, 300)]}");
        }

        if (hostile.Type is { } type)
        {
            Assert.Equal(type, problem.RootElement.GetProperty("type").GetString());
        }

        var detail = problem.RootElement.TryGetProperty("detail", out var d) ? d.GetString() ?? "" : "";
        if (hostile.Detail is { } exact)
        {
            Assert.Equal(exact, detail);
        }

        foreach (var part in hostile.DetailContains ?? [])
        {
            Assert.Contains(part, detail, StringComparison.Ordinal);
        }

        if (hostile.Errors is { } expected)
        {
            var errors = problem.RootElement.TryGetProperty("errors", out var e) && e.ValueKind == JsonValueKind.Array
                ? e.EnumerateArray().Select(x => (Name: x.TryGetProperty("name", out var n) ? n.GetString() : null, Code: x.TryGetProperty("code", out var c) ? c.GetString() : null)).ToList()
                : [];
            foreach (var error in expected)
            {
                Assert.True(
                    errors.Any(x => (error.Name is null || x.Name == error.Name) && (error.Code is null || x.Code == error.Code)),
                    $"{hostile.Name}: no error {error.Name ?? "(any)"}/{error.Code ?? "(any)"} in {answer[..Math.Min(answer.Length, 300)]}");
            }
        }

        Assert.Equal(before, await WrittenAsync(stack));
    }

    /// <summary>A fingerprint of everything a request could write: clients, their versions, idempotency keys.</summary>
    private static async Task<(long Clients, long MaxId, long Versions, long Keys)> WrittenAsync(StackFixture stack)
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

/// <summary>
/// One hostile request from the corpus, and optionally what its problem must say beyond "a 4xx problem": its status,
/// type, exact detail, parts of its detail, and <c>errors[]</c> entries (a null name or code matches any).
/// </summary>
public sealed record HostileCase(
    string Name,
    string Service,
    string Method,
    string Path,
    string? Role,
    string? Body,
    string? BodyBase64,
    string? ContentType,
    Dictionary<string, string>? Headers,
    int? Status = null,
    string? Type = null,
    string? Detail = null,
    IReadOnlyList<string>? DetailContains = null,
    IReadOnlyList<HostileError>? Errors = null)
{
    public override string ToString() => Name;
}

/// <summary>An <c>errors[]</c> entry a case's problem must hold.</summary>
public sealed record HostileError(string? Name, string? Code);
