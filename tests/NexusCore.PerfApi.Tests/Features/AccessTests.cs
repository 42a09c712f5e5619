using System.Net;

namespace NexusCore.PerfApi.Tests.Features;

/// <summary>Every PerfApi route but health's status word (and the OTLP ingest, which takes the ingest key) needs a reader key or more.</summary>
[Collection(StackCollection.Name)]
public sealed class AccessTests(PerfApiStack stack)
{
    public static readonly TheoryData<string> ReaderRoutes =
    [
        "/api/v1/performance/health/details",
        "/api/v1/performance/analytics",
        "/api/v1/performance/metrics",
        "/api/v1/performance/slow-queries",
        "/api/v1/performance/alerts",
        "/api/v1/performance/optimization/recommendations",
        "/api/v1/performance/telemetry/summary",
    ];

    [Theory]
    [MemberData(nameof(ReaderRoutes))]
    public async Task AReadRouteAnswers401WithoutAKey403ToTheIngestKeyAnd200ToAReader(string route)
    {
        await Problem.ReadAsync(await stack.CreateClient("perf-api").GetAsync(route), HttpStatusCode.Unauthorized);
        await Problem.ReadAsync(await stack.CreateClient("perf-api", "ingest").GetAsync(route), HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, (await stack.CreateClient("perf-api", "reader").GetAsync(route)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await stack.CreateClient("perf-api", "admin").GetAsync(route)).StatusCode);
    }

    [Theory]
    [MemberData(nameof(ReaderRoutes))]
    public async Task AReadRouteAnswersHeadAsItsGetWithoutContent(string route)
    {
        var head = await stack.CreateClient("perf-api", "reader").SendAsync(new HttpRequestMessage(HttpMethod.Head, route));
        var anonymous = await stack.CreateClient("perf-api").SendAsync(new HttpRequestMessage(HttpMethod.Head, route));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal("application/json", head.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task AnOperatorsDashboardOnTheAllowedOriginCanCallWithItsKey()
    {
        // CORS_ALLOWED_ORIGINS reaches PerfApi as it reaches ClientsApi: a browser preflight needs no key.
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/v1/performance/alerts")
        {
            Headers = { { "Origin", StackFixture.FrontendOrigin }, { "Access-Control-Request-Method", "GET" }, { "Access-Control-Request-Headers", "x-api-key" } },
        };
        using var read = new HttpRequestMessage(HttpMethod.Get, "/api/v1/performance/alerts") { Headers = { { "Origin", StackFixture.FrontendOrigin } } };

        var answered = await stack.CreateClient("perf-api").SendAsync(preflight);
        var alerts = await stack.CreateClient("perf-api", "reader").SendAsync(read);

        Assert.Equal(HttpStatusCode.NoContent, answered.StatusCode);
        Assert.Equal([StackFixture.FrontendOrigin], answered.Headers.GetValues("Access-Control-Allow-Origin"));
        Assert.Equal(HttpStatusCode.OK, alerts.StatusCode);
        Assert.Equal([StackFixture.FrontendOrigin], alerts.Headers.GetValues("Access-Control-Allow-Origin"));
    }

    [Theory]
    [MemberData(nameof(ReaderRoutes))]
    public async Task AnUnknownParameterIsA400NamingIt(string route)
    {
        var response = await stack.CreateClient("perf-api", "reader").GetAsync($"{route}?verbose=true");

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(("verbose", "unknown_parameter"), (Assert.Single(problem.Errors).Name, problem.Errors[0].Code));
    }

    [Fact]
    public async Task AValidationProblemNamesTheCallersTrace()
    {
        var trace = Problem.NewTraceId();
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/performance/analytics?verbose=true");
        request.Headers.Add("traceparent", Problem.TraceParent(trace));

        var response = await stack.CreateClient("perf-api", "reader").SendAsync(request);

        (await Problem.ReadAsync(response, HttpStatusCode.BadRequest)).AssertTraceOf(trace);
    }

    [Fact]
    public async Task TheOpenApiDocumentListsEveryPerformanceRoute()
    {
        var document = System.Text.Json.JsonDocument.Parse(await stack.CreateClient("perf-api").GetStringAsync("/swagger/v1/swagger.json")).RootElement;

        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        foreach (var route in new[] { "health", "health/details", "analytics", "metrics", "slow-queries", "alerts", "optimization/recommendations", "cache/clear", "benchmark" })
        {
            Assert.Contains($"/api/v1/performance/{route}", paths);
        }
    }

    public static readonly TheoryData<string> OtlpRoutes = ["/v1/traces", "/v1/metrics"];

    /// <summary>Keys of every role but ingest, the admin's included, and one added through configuration.</summary>
    public static readonly TheoryData<string> NonIngestKeys = ["admin", "writer", "reader", StackFixture.SecondReaderKey, StackFixture.SecondWriterKey];

    [Theory]
    [MemberData(nameof(OtlpRoutes))]
    public async Task TheOtlpReceiverTakesTheIngestKey(string route)
    {
        var response = await stack.CreateClient("perf-api", "ingest").PostAsync(route, EmptyExport());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [MemberData(nameof(NonIngestKeys))]
    public async Task TheOtlpReceiverAnswers403ToEveryOtherKeyAdminIncluded(string key)
    {
        var traces = await stack.CreateClient("perf-api", key).PostAsync("/v1/traces", EmptyExport());
        var metrics = await stack.CreateClient("perf-api", key).PostAsync("/v1/metrics", EmptyExport());

        Assert.Equal("https://nexuscore.dev/problems/forbidden", (await Problem.ReadAsync(traces, HttpStatusCode.Forbidden)).Type);
        Assert.Equal("https://nexuscore.dev/problems/forbidden", (await Problem.ReadAsync(metrics, HttpStatusCode.Forbidden)).Type);
    }

    [Theory]
    [MemberData(nameof(OtlpRoutes))]
    public async Task TheOtlpReceiverAnswers401WithoutAKeyOrToARevokedOne(string route)
    {
        await Problem.ReadAsync(await stack.CreateClient("perf-api").PostAsync(route, EmptyExport()), HttpStatusCode.Unauthorized);
        await Problem.ReadAsync(await stack.CreateClient("perf-api", StackFixture.RevokedKey).PostAsync(route, EmptyExport()), HttpStatusCode.Unauthorized);
    }

    [Theory]
    [MemberData(nameof(OtlpRoutes))]
    public async Task TheOtlpReceiverRefusesAQueryParameterAsEveryRouteDoes(string route)
    {
        var response = await stack.CreateClient("perf-api", "ingest").PostAsync($"{route}?compression=none", EmptyExport());

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(("compression", "unknown_parameter"), (Assert.Single(problem.Errors).Name, problem.Errors[0].Code));
    }

    /// <summary>An OTLP export request with nothing in it: empty protobuf is a valid one of either signal.</summary>
    private static ByteArrayContent EmptyExport() => new([]) { Headers = { ContentType = new("application/x-protobuf") } };

    [Fact]
    public async Task HealthNeedsNoKeyAndTellsAnonymousCallersTheStatusWordAlone()
    {
        var response = await stack.CreateClient("perf-api").GetAsync("/api/v1/performance/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(["status"], body.EnumerateObject().Select(p => p.Name));
        Assert.Contains(body.GetProperty("status").GetString(), new[] { "healthy", "degraded" });
    }
}
