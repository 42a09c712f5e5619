using System.Net;
using System.Text.Json;

namespace NexusCore.ClientsApi.Tests;

/// <summary>
/// ClientsApi's OpenAPI document, as the running service serves it, says what the routes check: every
/// route under a stable operation id with the problems it can send, every query parameter with its type,
/// bounds, enum and default, headers as header parameters (never body fields), bodies with what they
/// require, and the headers responses carry.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class OpenApiDocumentTests(ClientsApiStack stack)
{
    private static readonly Dictionary<(string Path, string Method), string> Operations = new()
    {
        [("/api/v1/clients", "get")] = "listClients",
        [("/api/v1/clients", "post")] = "createClient",
        [("/api/v1/clients/{id}", "get")] = "getClient",
        [("/api/v1/clients/{id}", "patch")] = "updateClient",
        [("/api/v1/clients/{id}", "delete")] = "deleteClient",
        [("/api/v1/optimized/clients/dashboard", "get")] = "getClientDashboard",
        [("/api/v1/optimized/clients/search/advanced", "get")] = "searchClients",
        [("/api/v1/optimized/clients/analytics/performance", "get")] = "getClientAnalytics",
        [("/api/v1/optimized/clients/bulk-export", "get")] = "exportClients",
        [("/api/v1/optimized/clients/by-ids", "post")] = "getClientsByIds",
        [("/api/v1/optimized/clients/batch", "post")] = "batchClients",
        [("/api/v1/cache/statistics", "get")] = "getCacheStatistics",
        [("/api/v1/cache/clear", "post")] = "clearCache",
    };

    private readonly Lazy<Task<JsonElement>> _document = new(async () =>
    {
        var response = await stack.CreateClient("clients-api").GetAsync("/swagger/v1/swagger.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    });

    [Fact]
    public async Task EveryRouteHasItsOperationIdAndDeclaresTheProblemsEveryRouteCanSend()
    {
        var document = await _document.Value;

        var documented = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Where(o => o.Name is "get" or "post" or "patch" or "delete" or "put")
                .Select(operation => ((path.Name, operation.Name), operation.Value.GetProperty("operationId").GetString() ?? "")))
            .ToDictionary(o => o.Item1, o => o.Item2);

        Assert.Equal(Operations.OrderBy(o => o.Value), documented.OrderBy(o => o.Value));
        foreach (var ((path, method), id) in Operations)
        {
            var responses = Operation(document, path, method).GetProperty("responses");
            foreach (var status in new[] { "400", "401", "403", "429" })
            {
                Assert.True(responses.TryGetProperty(status, out var response), $"{id} does not declare {status}");
                Assert.True(response.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{id}'s {status} is not a problem document");
            }
        }
    }

    [Fact]
    public async Task EachRouteDeclaresTheStatusesOnlyItSends()
    {
        // 414 and 431 are the shared pipeline's (a URL or headers too large), on every route.
        var document = await _document.Value;

        Assert.Equal(["200", "304", "400", "401", "403", "404", "414", "429", "431", "503"], Statuses(document, "/api/v1/clients/{id}", "get"));
        Assert.Equal(["200", "400", "401", "403", "404", "409", "412", "413", "414", "415", "429", "431", "503"], Statuses(document, "/api/v1/clients/{id}", "patch"));
        Assert.Equal(["204", "400", "401", "403", "404", "412", "414", "429", "431", "503"], Statuses(document, "/api/v1/clients/{id}", "delete"));
        Assert.Equal(["201", "400", "401", "403", "409", "413", "414", "415", "429", "431", "503"], Statuses(document, "/api/v1/clients", "post"));
        Assert.Equal(["200", "400", "401", "403", "404", "409", "413", "414", "415", "422", "429", "431", "503"], Statuses(document, "/api/v1/optimized/clients/batch", "post"));
        Assert.Equal(["200", "400", "401", "403", "406", "414", "429", "431", "503"], Statuses(document, "/api/v1/optimized/clients/bulk-export", "get"));
    }

    [Fact]
    public async Task TheListAndSearchDeclareEveryQueryParameterWithItsTypeBoundsAndDefault()
    {
        var document = await _document.Value;

        var list = Parameters(document, "/api/v1/clients", "get", "query");
        var search = Parameters(document, "/api/v1/optimized/clients/search/advanced", "get", "query");

        Assert.Equal(["cursor", "limit", "order", "programType", "sort", "status"], list.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(
            ["count", "createdFrom", "createdTo", "cursor", "limit", "order", "programType", "q", "sort", "status", "updatedFrom", "updatedTo"],
            search.Keys.Order(StringComparer.Ordinal));
        foreach (var parameters in new[] { list, search })
        {
            var limit = Schema(document, parameters["limit"]);
            Assert.Equal(("integer", 1m, 200m, 50m), (limit.GetProperty("type").GetString(), limit.GetProperty("minimum").GetDecimal(), limit.GetProperty("maximum").GetDecimal(), limit.GetProperty("default").GetDecimal()));
            Assert.Equal(["createdAt", "updatedAt", "name", "id"], Enum(document, parameters["sort"]));
            Assert.Equal(["asc", "desc"], Enum(document, parameters["order"]));
            Assert.Equal("array", Schema(document, parameters["status"]).GetProperty("type").GetString());
        }

        Assert.Equal(100, Schema(document, search["q"]).GetProperty("maxLength").GetInt32());
        Assert.Equal(["active", "inactive", "pending"], Schema(document, list["status"]).GetProperty("items").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["none", "estimated", "exact"], Enum(document, search["count"]));
    }

    [Fact]
    public async Task AnalyticsDeclaresDatesAndItsGranularities()
    {
        var document = await _document.Value;

        var parameters = Parameters(document, "/api/v1/optimized/clients/analytics/performance", "get", "query");

        Assert.Equal(["from", "granularity", "to"], parameters.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("date", Schema(document, parameters["from"]).GetProperty("format").GetString());
        Assert.Equal(["day", "week", "month"], Enum(document, parameters["granularity"]));
        Assert.Equal("day", parameters["granularity"].GetProperty("schema").GetProperty("default").GetString());
    }

    [Fact]
    public async Task HeadersAreHeaderParametersAndNeverBodyFields()
    {
        var document = await _document.Value;

        Assert.Contains("If-Match", Parameters(document, "/api/v1/clients/{id}", "patch", "header").Keys);
        Assert.Contains("If-Match", Parameters(document, "/api/v1/clients/{id}", "delete", "header").Keys);
        Assert.Contains("If-None-Match", Parameters(document, "/api/v1/clients/{id}", "get", "header").Keys);
        Assert.Contains("Idempotency-Key", Parameters(document, "/api/v1/optimized/clients/batch", "post", "header").Keys);

        var patch = BodyProperties(document, "/api/v1/clients/{id}", "patch");
        var batch = BodyProperties(document, "/api/v1/optimized/clients/batch", "post");
        Assert.Equal(["email", "name", "programType", "status"], patch.Order(StringComparer.Ordinal));
        Assert.Equal(["items", "mode"], batch.Order(StringComparer.Ordinal));
        Assert.False(Operation(document, "/api/v1/clients/{id}", "delete").TryGetProperty("requestBody", out _), "DELETE reads no body");
        var id = Parameters(document, "/api/v1/clients/{id}", "delete", "path")["id"];
        Assert.Equal(("integer", "int64", 1m), (Schema(document, id).GetProperty("type").GetString(), Schema(document, id).GetProperty("format").GetString(), Schema(document, id).GetProperty("minimum").GetDecimal()));
    }

    [Fact]
    public async Task BodiesDeclareWhatTheyRequireAndTheirBounds()
    {
        var document = await _document.Value;

        var create = Resolve(document, BodySchema(document, "/api/v1/clients", "post"));
        var ids = Resolve(document, Resolve(document, BodySchema(document, "/api/v1/optimized/clients/by-ids", "post")).GetProperty("properties").GetProperty("ids"));
        var items = Resolve(document, Resolve(document, BodySchema(document, "/api/v1/optimized/clients/batch", "post")).GetProperty("properties").GetProperty("items"));

        Assert.Equal(["email", "name", "programType"], create.GetProperty("required").EnumerateArray().Select(e => e.GetString()).Order(StringComparer.Ordinal));
        Assert.Equal(200, Resolve(document, create.GetProperty("properties").GetProperty("name")).GetProperty("maxLength").GetInt32());
        Assert.Equal((1, 1000), (ids.GetProperty("minItems").GetInt32(), ids.GetProperty("maxItems").GetInt32()));
        Assert.False(ids.TryGetProperty("minLength", out _), "an array has items, not a length");
        Assert.Equal((1, 1000), (items.GetProperty("minItems").GetInt32(), items.GetProperty("maxItems").GetInt32()));
    }

    [Fact]
    public async Task TheHeadersResponsesCarryAreDeclared()
    {
        var document = await _document.Value;

        Assert.Contains("ETag", ResponseHeaders(document, "/api/v1/clients/{id}", "get", "200"));
        Assert.Contains("X-Cache", ResponseHeaders(document, "/api/v1/clients/{id}", "get", "200"));
        Assert.Contains("Age", ResponseHeaders(document, "/api/v1/clients/{id}", "get", "200"));
        Assert.Contains("ETag", ResponseHeaders(document, "/api/v1/clients/{id}", "get", "304"));
        Assert.Equal(["ETag", "Location"], ResponseHeaders(document, "/api/v1/clients", "post", "201").Order(StringComparer.Ordinal));
        Assert.Contains("ETag", ResponseHeaders(document, "/api/v1/clients/{id}", "patch", "412"));
        Assert.Contains("Retry-After", ResponseHeaders(document, "/api/v1/clients", "get", "429"));
        Assert.Contains("Retry-After", ResponseHeaders(document, "/api/v1/optimized/clients/batch", "post", "503"));
    }

    private static JsonElement Operation(JsonElement document, string path, string method) =>
        document.GetProperty("paths").GetProperty(path).GetProperty(method);

    private static List<string> Statuses(JsonElement document, string path, string method) =>
        [.. Operation(document, path, method).GetProperty("responses").EnumerateObject().Select(r => r.Name).Order(StringComparer.Ordinal)];

    private static Dictionary<string, JsonElement> Parameters(JsonElement document, string path, string method, string location) =>
        Operation(document, path, method).TryGetProperty("parameters", out var parameters)
            ? parameters.EnumerateArray().Select(p => Resolve(document, p)).Where(p => p.GetProperty("in").GetString() == location)
                .ToDictionary(p => p.GetProperty("name").GetString()!, p => p)
            : [];

    private static JsonElement Schema(JsonElement document, JsonElement parameter) => Resolve(document, parameter.GetProperty("schema"));

    private static List<string?> Enum(JsonElement document, JsonElement parameter) =>
        [.. Schema(document, parameter).GetProperty("enum").EnumerateArray().Select(e => e.GetString())];

    private static JsonElement BodySchema(JsonElement document, string path, string method) =>
        Operation(document, path, method).GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema");

    private static List<string> BodyProperties(JsonElement document, string path, string method) =>
        [.. Resolve(document, BodySchema(document, path, method)).GetProperty("properties").EnumerateObject().Select(p => p.Name)];

    private static List<string> ResponseHeaders(JsonElement document, string path, string method, string status) =>
        Operation(document, path, method).GetProperty("responses").GetProperty(status).TryGetProperty("headers", out var headers)
            ? [.. headers.EnumerateObject().Select(h => h.Name)]
            : [];

    /// <summary>Follows <c>$ref</c>s, and the one-element <c>allOf</c>/<c>oneOf</c> a nullable reference is wrapped in.</summary>
    private static JsonElement Resolve(JsonElement document, JsonElement schema)
    {
        while (true)
        {
            if (schema.TryGetProperty("$ref", out var reference))
            {
                schema = reference.GetString()!.TrimStart('#', '/').Split('/').Aggregate(document, (node, part) => node.GetProperty(part));
            }
            else if ((schema.TryGetProperty("allOf", out var wrapped) || schema.TryGetProperty("oneOf", out wrapped)) && wrapped.GetArrayLength() == 1
                     && !schema.TryGetProperty("properties", out _))
            {
                schema = wrapped[0];
            }
            else
            {
                return schema;
            }
        }
    }
}
