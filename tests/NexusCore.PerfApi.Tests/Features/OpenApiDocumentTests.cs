using System.Globalization;
using System.Net;
using System.Text.Json;

namespace NexusCore.PerfApi.Tests.Features;

/// <summary>
/// PerfApi's OpenAPI document says what the routes take and send, so that a client generated from it can call
/// every route: operation ids, query parameters with their types, bounds, allowed values and defaults (read back
/// from the live document and tried against the live routes), every status with its problem document and headers,
/// and the OTLP routes' protobuf bodies.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class OpenApiDocumentTests(PerfApiStack stack)
{
    public static readonly TheoryData<string, string, string> Operations = new()
    {
        { "get", "/api/v1/performance/health", "getHealth" },
        { "get", "/api/v1/performance/health/details", "getHealthDetails" },
        { "get", "/api/v1/performance/analytics", "getQueryAnalytics" },
        { "get", "/api/v1/performance/metrics", "getMetrics" },
        { "get", "/api/v1/performance/slow-queries", "listSlowQueries" },
        { "get", "/api/v1/performance/alerts", "getAlerts" },
        { "get", "/api/v1/performance/optimization/recommendations", "getRecommendations" },
        { "get", "/api/v1/performance/telemetry/summary", "getTelemetrySummary" },
        { "post", "/api/v1/performance/cache/clear", "clearCache" },
        { "post", "/api/v1/performance/benchmark", "runBenchmark" },
        { "get", "/api/v1/performance/indexes", "getIndexAdvice" },
        { "post", "/api/v1/performance/indexes/{id}/apply", "applyIndex" },
        { "get", "/api/v1/performance/indexes/applications/{applicationId}", "getIndexApplication" },
        { "post", "/v1/metrics", "exportMetrics" },
        { "post", "/v1/traces", "exportTraces" },
    };

    [Fact]
    public async Task TheDocumentListsEveryRouteOnceWithAStableReadableOperationId()
    {
        var document = await DocumentAsync();

        var listed = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(op => (op.Name, path.Name, op.Value.GetProperty("operationId").GetString()!)))
            .OrderBy(op => op.Item2, StringComparer.Ordinal).ThenBy(op => op.Item1, StringComparer.Ordinal).ToList();

        var expected = Operations.Select(row => ((string)row[0], (string)row[1], (string)row[2]))
            .OrderBy(op => op.Item2, StringComparer.Ordinal).ThenBy(op => op.Item1, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, listed);
    }

    [Fact]
    public async Task QueryParametersAreDocumentedWithTheirTypesBoundsAllowedValuesAndDefaults()
    {
        var document = await DocumentAsync();

        var analytics = QueryParameters(Operation(document, "get", "/api/v1/performance/analytics"));
        var slowQueries = QueryParameters(Operation(document, "get", "/api/v1/performance/slow-queries"));
        var recommendations = QueryParameters(Operation(document, "get", "/api/v1/performance/optimization/recommendations"));
        var indexes = QueryParameters(Operation(document, "get", "/api/v1/performance/indexes"));

        Assert.Equal(["window"], analytics.Keys);
        Assert.Equal(("string", "5m"), (analytics["window"].Text("type"), analytics["window"].Text("default")));
        Assert.Equal(["5m", "15m", "1h", "24h", "7d"], Strings(analytics["window"], "enum"));

        Assert.Equal(["limit", "threshold", "window"], slowQueries.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(("number", 0.0, 86400.0), (slowQueries["threshold"].Text("type"), slowQueries["threshold"].Number("minimum"), slowQueries["threshold"].Number("maximum")));
        Assert.Equal(("integer", 1.0, 200.0, 50L), (slowQueries["limit"].Text("type"), slowQueries["limit"].Number("minimum"), slowQueries["limit"].Number("maximum"), slowQueries["limit"].Long("default")));
        Assert.Equal(["5m", "15m", "1h"], Strings(slowQueries["window"], "enum"));
        Assert.Equal("1h", slowQueries["window"].Text("default"));

        Assert.Equal(["5m", "15m", "1h"], Strings(recommendations["window"], "enum"));
        Assert.Equal("15m", recommendations["window"].Text("default"));

        Assert.Equal(("boolean", false), (indexes["refresh"].Text("type"), indexes["refresh"].GetProperty("default").GetBoolean()));
        Assert.Equal(("integer", 1.0, 3600.0), (indexes["unusedWindowSeconds"].Text("type"), indexes["unusedWindowSeconds"].Number("minimum"), indexes["unusedWindowSeconds"].Number("maximum")));

        foreach (var route in new[] { "/api/v1/performance/health", "/api/v1/performance/metrics", "/api/v1/performance/alerts", "/api/v1/performance/telemetry/summary" })
        {
            Assert.Empty(QueryParameters(Operation(document, "get", route)));
        }
    }

    /// <summary>
    /// From the document alone, as a schema-driven fuzzer would: every value a query parameter's schema allows is
    /// answered 200, and values outside it (other words, numbers past a bound, text for a number, an empty value) are
    /// each a 400 problem whose single error names the parameter with a code.
    /// </summary>
    [Fact]
    public async Task EveryDocumentedQueryValueIsAcceptedAndEveryValueOutsideTheDocumentIsAProblemNamingTheParameter()
    {
        var document = await DocumentAsync();
        var reader = stack.CreateClient("perf-api", "reader");
        var tried = 0;
        foreach (var path in document.GetProperty("paths").EnumerateObject().Where(p => !p.Name.Contains('{', StringComparison.Ordinal)))
        {
            if (!path.Value.TryGetProperty("get", out var get))
            {
                continue;
            }

            foreach (var (name, schema) in QueryParameters(get))
            {
                var (valid, invalid) = Samples(schema);
                foreach (var value in valid)
                {
                    var response = await reader.GetAsync($"{path.Name}?{name}={Uri.EscapeDataString(value)}");
                    Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path.Name}?{name}={value}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    tried++;
                }

                foreach (var value in invalid)
                {
                    var problem = await Problem.ReadAsync(await reader.GetAsync($"{path.Name}?{name}={Uri.EscapeDataString(value)}"), HttpStatusCode.BadRequest);
                    var error = Assert.Single(problem.Errors);
                    Assert.Equal(name, error.Name);
                    Assert.False(string.IsNullOrEmpty(error.Code), $"{path.Name}?{name}={value}: no code");
                    tried++;
                }
            }
        }

        Assert.True(tried >= 40, $"{tried} values tried");
    }

    [Fact]
    public async Task EveryStatusARouteSendsIsDocumentedWithProblemsAsProblemJsonAndRetryAfterWhereItIsSent()
    {
        var document = await DocumentAsync();

        Assert.Equal(["200", "400", "401", "403", "414", "429", "431", "503"], Statuses(Operation(document, "get", "/api/v1/performance/analytics")));
        Assert.Equal(["200", "202", "400", "401", "403", "404", "409", "413", "414", "415", "429", "431", "503"], Statuses(Operation(document, "post", "/api/v1/performance/indexes/{id}/apply")));
        Assert.Equal(["200", "400", "414", "429", "431", "503"], Statuses(Operation(document, "get", "/api/v1/performance/health")));
        Assert.Equal(["204", "400", "401", "403", "414", "429", "431", "502", "503"], Statuses(Operation(document, "post", "/api/v1/performance/cache/clear")));
        Assert.Equal(["200", "400", "401", "403", "408", "413", "414", "415", "429", "431"], Statuses(Operation(document, "post", "/v1/traces")));

        var analytics = Operation(document, "get", "/api/v1/performance/analytics").GetProperty("responses");
        Assert.True(analytics.GetProperty("503").GetProperty("content").TryGetProperty("application/problem+json", out _));
        Assert.True(analytics.GetProperty("503").GetProperty("headers").TryGetProperty("Retry-After", out _));
        Assert.True(analytics.GetProperty("429").GetProperty("headers").TryGetProperty("Retry-After", out _));
        var apply = Operation(document, "post", "/api/v1/performance/indexes/{id}/apply").GetProperty("responses");
        Assert.True(apply.GetProperty("202").GetProperty("headers").TryGetProperty("Location", out _));
        Assert.True(analytics.GetProperty("200").GetProperty("content").GetProperty("application/json").TryGetProperty("example", out _));
    }

    [Theory]
    [InlineData("/v1/traces", "ExportTraceServiceRequest")]
    [InlineData("/v1/metrics", "ExportMetricsServiceRequest")]
    public async Task AnOtlpRouteDocumentsItsBinaryProtobufBodyItsEncodingAndItsProtobufAnswer(string path, string message)
    {
        var operation = Operation(await DocumentAsync(), "post", path);

        var body = operation.GetProperty("requestBody");
        Assert.True(body.GetProperty("required").GetBoolean());
        Assert.Contains(message, body.Text("description"));
        Assert.Equal(["application/x-protobuf"], body.GetProperty("content").EnumerateObject().Select(c => c.Name));
        var schema = body.GetProperty("content").GetProperty("application/x-protobuf").GetProperty("schema");
        Assert.Equal(("string", "binary"), (schema.Text("type"), schema.Text("format")));

        var encoding = operation.GetProperty("parameters").EnumerateArray().Single(p => p.Text("name") == "Content-Encoding");
        Assert.Equal("header", encoding.Text("in"));
        Assert.Equal(["gzip", "identity"], Strings(encoding.GetProperty("schema"), "enum"));

        var ok = operation.GetProperty("responses").GetProperty("200").GetProperty("content");
        Assert.Equal(["application/x-protobuf"], ok.EnumerateObject().Select(c => c.Name));
    }

    [Fact]
    public async Task TheOptionalJsonBodiesAreDocumentedAsOptional()
    {
        var document = await DocumentAsync();

        foreach (var path in new[] { "/api/v1/performance/benchmark", "/api/v1/performance/indexes/{id}/apply" })
        {
            var body = Operation(document, "post", path).GetProperty("requestBody");
            Assert.False(body.TryGetProperty("required", out var required) && required.GetBoolean(), path);
            Assert.Equal(["application/json"], body.GetProperty("content").EnumerateObject().Select(c => c.Name));
        }
    }

    private async Task<JsonElement> DocumentAsync() =>
        JsonDocument.Parse(await stack.CreateClient("perf-api").GetStringAsync("/swagger/v1/swagger.json")).RootElement.Clone();

    private static JsonElement Operation(JsonElement document, string method, string path) =>
        document.GetProperty("paths").GetProperty(path).GetProperty(method);

    /// <summary>Query parameters by name, each as its schema.</summary>
    private static Dictionary<string, JsonElement> QueryParameters(JsonElement operation) =>
        operation.TryGetProperty("parameters", out var parameters)
            ? parameters.EnumerateArray().Where(p => p.Text("in") == "query").ToDictionary(p => p.Text("name"), p => p.GetProperty("schema"))
            : [];

    private static List<string> Statuses(JsonElement operation) =>
        [.. operation.GetProperty("responses").EnumerateObject().Select(r => r.Name).Order(StringComparer.Ordinal)];

    private static List<string> Strings(JsonElement schema, string property) =>
        [.. schema.GetProperty(property).EnumerateArray().Select(v => v.GetString()!)];

    /// <summary>Values a schema allows, and values it does not, as query text.</summary>
    private static (List<string> Valid, List<string> Invalid) Samples(JsonElement schema)
    {
        if (schema.TryGetProperty("enum", out _))
        {
            var values = Strings(schema, "enum");
            return (values, ["", "x", values[0].ToUpperInvariant() == values[0] ? values[0] + "x" : values[0].ToUpperInvariant()]);
        }

        static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
        var min = schema.TryGetProperty("minimum", out var low) ? low.GetDouble() : (double?)null;
        var max = schema.TryGetProperty("maximum", out var high) ? high.GetDouble() : (double?)null;
        var valid = new List<string>();
        var invalid = new List<string> { "", "abc" };
        switch (schema.Text("type"))
        {
            case "boolean":
                return (["true", "false"], ["", "yes", "1"]);
            case "integer":
                valid.AddRange(new[] { min, max }.OfType<double>().Select(Format));
                invalid.AddRange(new[] { min - 1, max + 1 }.OfType<double>().Select(Format));
                invalid.Add("1.5");
                break;
            case "number":
                valid.AddRange(new[] { min, max, min + 0.5 }.OfType<double>().Select(Format));
                invalid.AddRange(new[] { min - 0.5, max + 0.5 }.OfType<double>().Select(Format));
                break;
        }

        return (valid, invalid);
    }
}
