using System.Text.Json;
using NexusCore.Testing.Contract;

namespace NexusCore.AppHost.Tests.Contract;

/// <summary>
/// What both documents say the same way (NexusCore.Web's OpenApiDefaults): both ways to send a key on every route
/// that needs one, the role in each secured operation, 401/403/429 on each, one RFC 9457 problem schema as
/// <c>application/problem+json</c> for every error (FastEndpoints' <c>ErrorResponse</c> nowhere), and a document that
/// does not depend on the address it was read from.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class DocumentSharedPartsTests(StackFixture stack)
{
    private const string ProblemRef = "#/components/schemas/ProblemDetails";

    private async Task<JsonElement> DocumentAsync(string service) =>
        JsonDocument.Parse(await stack.CreateClient(service).GetStringAsync(OpenApiContract.DocumentPath)).RootElement;

    private static IEnumerable<(string Path, string Method, JsonElement Operation)> Operations(JsonElement document) =>
        document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject()
                .Where(o => o.Name is "get" or "put" or "post" or "delete" or "patch" or "head" or "options")
                .Select(o => (path.Name, o.Name.ToUpperInvariant(), o.Value)));

    private static bool IsSecured(JsonElement operation) =>
        operation.TryGetProperty("security", out var security) && security.GetArrayLength() > 0;

    [Theory]
    [InlineData("clients-api")]
    [InlineData("perf-api")]
    public async Task TheKeyCanBeSentAsXApiKeyOrAsABearerToken(string service)
    {
        var schemes = (await DocumentAsync(service)).GetProperty("components").GetProperty("securitySchemes");

        Assert.Equal(["ApiKey", "Bearer"], schemes.EnumerateObject().Select(s => s.Name).Order());
        var apiKey = schemes.GetProperty("ApiKey");
        Assert.Equal(("apiKey", "header", "X-Api-Key"), (apiKey.GetProperty("type").GetString(), apiKey.GetProperty("in").GetString(), apiKey.GetProperty("name").GetString()));
        var bearer = schemes.GetProperty("Bearer");
        Assert.Equal(("http", "bearer"), (bearer.GetProperty("type").GetString(), bearer.GetProperty("scheme").GetString()));
    }

    [Theory]
    [InlineData("clients-api")]
    [InlineData("perf-api")]
    public async Task EverySecuredOperationTakesEitherSchemeNamesItsRoleAndAnswers401_403And429WithProblems(string service)
    {
        var wrong = new List<string>();
        foreach (var (path, method, operation) in Operations(await DocumentAsync(service)).Where(o => IsSecured(o.Operation)))
        {
            var where = $"{method} {path}";
            var requirements = operation.GetProperty("security").EnumerateArray()
                .Select(r => string.Join("+", r.EnumerateObject().Select(s => s.Name + (s.Value.GetArrayLength() == 0 ? "" : "[scopes]"))))
                .ToList();
            if (!requirements.Order().SequenceEqual(["ApiKey", "Bearer"]))
            {
                wrong.Add($"{where}: security is [{string.Join(", ", requirements)}], not ApiKey or Bearer.");
            }

            var role = operation.TryGetProperty("x-required-role", out var r) ? r.GetString() : null;
            if (role is not ("reader" or "writer" or "admin" or "ingest"))
            {
                wrong.Add($"{where}: x-required-role is '{role}'.");
            }
            else if (!(operation.TryGetProperty("description", out var description) && description.GetString()!.Contains($"**Role:** `{role}`", StringComparison.Ordinal)))
            {
                wrong.Add($"{where}: the description does not name the role {role}.");
            }

            var responses = operation.GetProperty("responses");
            foreach (var status in new[] { "401", "403", "429" })
            {
                if (!responses.TryGetProperty(status, out var response))
                {
                    wrong.Add($"{where}: no {status}.");
                }
                else if (ProblemReference(response) is var reference && reference != ProblemRef)
                {
                    wrong.Add($"{where}: {status} is not an application/problem+json {ProblemRef} ({reference}).");
                }
            }

            if (responses.TryGetProperty("429", out var tooMany) && !(tooMany.TryGetProperty("headers", out var headers) && headers.TryGetProperty("Retry-After", out _)))
            {
                wrong.Add($"{where}: 429 does not document Retry-After.");
            }
        }

        Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));
    }

    [Fact]
    public async Task OnlyPerfApisStatusWordIsOpenToAnonymousCallers()
    {
        var open = new List<string>();
        foreach (var service in new[] { "clients-api", "perf-api" })
        {
            open.AddRange(Operations(await DocumentAsync(service))
                .Where(o => !IsSecured(o.Operation))
                .Select(o => $"{service} {o.Method} {o.Path}"));
        }

        Assert.Equal(["perf-api GET /api/v1/performance/health"], open);
    }

    [Theory]
    [InlineData("clients-api")]
    [InlineData("perf-api")]
    public async Task EveryErrorResponseIsTheOneRfc9457ProblemSchema(string service)
    {
        var document = await DocumentAsync(service);
        var wrong = new List<string>();
        foreach (var (path, method, operation) in Operations(document))
        {
            foreach (var response in operation.GetProperty("responses").EnumerateObject().Where(r => int.TryParse(r.Name, out var s) && s >= 400))
            {
                // PerfApi's health answers its status word with 503 when Postgres is down (README): a body, not a problem.
                if (response.Name == "503" && path.StartsWith("/api/v1/performance/health", StringComparison.Ordinal))
                {
                    continue;
                }

                if (ProblemReference(response.Value) is var reference && reference != ProblemRef)
                {
                    wrong.Add($"{method} {path} {response.Name}: {reference}");
                }
            }
        }

        Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));

        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.DoesNotContain(schemas.EnumerateObject(), s => s.Name.Contains("ErrorResponse", StringComparison.Ordinal));
        Assert.DoesNotContain("\"statusCode\"", document.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(["ProblemDetails"], schemas.EnumerateObject().Select(s => s.Name).Where(n => n.EndsWith("ProblemDetails", StringComparison.Ordinal)));

        var problem = schemas.GetProperty("ProblemDetails");
        Assert.Equal(
            ["detail", "errors", "instance", "outcome", "status", "title", "traceId", "type"],
            problem.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(["status", "title", "traceId", "type"], problem.GetProperty("required").EnumerateArray().Select(r => r.GetString()).Order());
        var error = problem.GetProperty("properties").GetProperty("errors").GetProperty("items");
        Assert.Equal(["code", "name", "reason"], error.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(["code", "name", "reason"], error.GetProperty("required").EnumerateArray().Select(r => r.GetString()).Order());
    }

    [Theory]
    [InlineData("clients-api", "NexusCore Clients API")]
    [InlineData("perf-api", "NexusCore Performance API")]
    public async Task TheDocumentIsTheSameWhicheverAddressServesIt(string service, string title)
    {
        var http = stack.CreateClient(service);
        var byName = await http.GetStringAsync(OpenApiContract.DocumentPath);
        var byAddress = await new HttpClient().GetStringAsync(new UriBuilder(http.BaseAddress!) { Host = "127.0.0.1", Path = OpenApiContract.DocumentPath }.Uri);

        Assert.Equal(byName, byAddress);
        var document = JsonDocument.Parse(byName).RootElement;
        Assert.StartsWith("3.", document.GetProperty("openapi").GetString());
        Assert.Equal((title, "v1"), (document.GetProperty("info").GetProperty("title").GetString(), document.GetProperty("info").GetProperty("version").GetString()));
        Assert.Equal(["/"], document.GetProperty("servers").EnumerateArray().Select(s => s.GetProperty("url").GetString()));
    }

    /// <summary>The schema reference of a response's only content, which must be application/problem+json; or what it is instead.</summary>
    private static string ProblemReference(JsonElement response)
    {
        if (!response.TryGetProperty("content", out var content))
        {
            return "no content";
        }

        var types = content.EnumerateObject().Select(c => c.Name).ToList();
        if (types is not ["application/problem+json"])
        {
            return $"content types {string.Join(", ", types)}";
        }

        var schema = content.GetProperty("application/problem+json").GetProperty("schema");
        return schema.TryGetProperty("$ref", out var reference) ? reference.GetString()! : schema.GetRawText();
    }
}
