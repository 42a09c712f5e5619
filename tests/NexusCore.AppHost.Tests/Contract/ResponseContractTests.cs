using System.Text.Json;

namespace NexusCore.AppHost.Tests.Contract;

/// <summary>
/// Every answer a frontend meets, successes and problems, on every route of both services, checked against the
/// live document: its status documented for that route and method, its media type documented for that status,
/// its JSON (problem documents included) valid against the documented schema. A route answering something its
/// document does not say fails here.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class ResponseContractTests(StackFixture stack)
{
    private static readonly Dictionary<string, string> Ndjson = new() { ["Accept"] = "application/x-ndjson" };

    [Fact]
    public async Task EveryClientsApiAnswerIsOneItsDocumentDescribes()
    {
        var probe = await ContractProbe.ForAsync(stack, "clients-api");
        var marker = "c" + Guid.NewGuid().ToString("N")[..12];
        string Body(object value) => JsonSerializer.Serialize(value);
        object NewClient(string suffix) => new { name = $"Contract {marker} {suffix}", email = $"contract-{marker}-{suffix}@example.test", programType = "PRIME" };

        // Create: 201, then 409 (the email is taken), 400 (a bad field, an unknown field), 401, 403, 415.
        var (status, body, created) = await probe.SendAsync("writer", HttpMethod.Post, "/api/v1/clients", Body(NewClient("a")));
        Assert.True(status == 201, body);
        var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt64();
        await probe.SendAsync("writer", HttpMethod.Post, "/api/v1/clients", Body(NewClient("a")));
        await probe.SendAsync("writer", HttpMethod.Post, "/api/v1/clients", Body(new { name = "", email = "not-an-email", programType = "NOPE" }));
        await probe.SendAsync("writer", HttpMethod.Post, "/api/v1/clients", """{"name":"X","email":"x@example.test","programType":"PRIME","nickname":"x"}""");
        await probe.SendAsync("writer", HttpMethod.Post, "/api/v1/clients?bogus=1", Body(NewClient("q")));
        await probe.SendAsync(null, HttpMethod.Post, "/api/v1/clients", Body(NewClient("b")));
        await probe.SendAsync("reader", HttpMethod.Post, "/api/v1/clients", Body(NewClient("b")));
        await probe.SendAsync("writer", HttpMethod.Post, "/api/v1/clients", "name=x", contentType: "application/x-www-form-urlencoded");

        // One client: 200, 304, 404, 400 (not an id), HEAD.
        var (_, _, got) = await probe.SendAsync("reader", HttpMethod.Get, $"/api/v1/clients/{id}");
        var etag = got.Headers.ETag?.ToString() ?? "\"none\"";
        await probe.SendAsync("reader", HttpMethod.Get, $"/api/v1/clients/{id}", headers: new Dictionary<string, string> { ["If-None-Match"] = etag });
        await probe.SendAsync("reader", HttpMethod.Get, "/api/v1/clients/9000000000000");
        await probe.SendAsync("reader", HttpMethod.Get, "/api/v1/clients/abc");
        await probe.SendAsync("reader", HttpMethod.Get, "/api/v1/clients/-1");
        await probe.SendAsync("reader", HttpMethod.Head, $"/api/v1/clients/{id}");
        await probe.SendAsync(null, HttpMethod.Get, $"/api/v1/clients/{id}");

        // PATCH: 200, 412 (stale If-Match), 404, 400 (empty body), 409 (another's email), 403.
        var (_, otherBody, _) = await probe.SendAsync("writer", HttpMethod.Post, "/api/v1/clients", Body(NewClient("other")));
        var otherEmail = JsonDocument.Parse(otherBody).RootElement.GetProperty("email").GetString();
        await probe.SendAsync("writer", HttpMethod.Patch, $"/api/v1/clients/{id}", Body(new { status = "pending" }), new Dictionary<string, string> { ["If-Match"] = etag });
        await probe.SendAsync("writer", HttpMethod.Patch, $"/api/v1/clients/{id}", Body(new { status = "inactive" }), new Dictionary<string, string> { ["If-Match"] = etag });
        await probe.SendAsync("writer", HttpMethod.Patch, "/api/v1/clients/9000000000000", Body(new { status = "inactive" }));
        await probe.SendAsync("writer", HttpMethod.Patch, $"/api/v1/clients/{id}", "{}");
        await probe.SendAsync("writer", HttpMethod.Patch, $"/api/v1/clients/{id}", Body(new { email = otherEmail }));
        await probe.SendAsync("reader", HttpMethod.Patch, $"/api/v1/clients/{id}", Body(new { status = "inactive" }));

        // Lists and searches: 200, a page with a cursor, 304, 400s (a bad limit, an unknown parameter, a tampered cursor).
        var (_, page, listed) = await probe.SendAsync("reader", HttpMethod.Get, $"/api/v1/optimized/clients/search/advanced?q={marker}&limit=1&count=exact");
        var cursor = JsonDocument.Parse(page).RootElement.TryGetProperty("nextCursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : "x";
        await probe.SendAsync("reader", HttpMethod.Get, $"/api/v1/optimized/clients/search/advanced?q={marker}&limit=1&cursor={Uri.EscapeDataString(cursor!)}");
        await probe.SendAsync("reader", HttpMethod.Get, $"/api/v1/optimized/clients/search/advanced?q={marker}&limit=1&count=exact",
            headers: new Dictionary<string, string> { ["If-None-Match"] = listed.Headers.ETag?.ToString() ?? "\"none\"" });
        await probe.SendAsync("reader", HttpMethod.Get, "/api/v1/clients?status=active&programType=PRIME&programType=LONGEVITY&sort=name&order=asc&limit=5");
        await probe.SendAsync("reader", HttpMethod.Get, "/api/v1/clients?limit=0");
        await probe.SendAsync("reader", HttpMethod.Get, "/api/v1/clients?bogus=1");
        await probe.SendAsync("reader", HttpMethod.Get, "/api/v1/clients?cursor=AAAA");
        await probe.SendAsync("reader", HttpMethod.Get, "/api/v1/optimized/clients/search/advanced?createdFrom=1800-01-01");

        // Batch: 200 (atomic and perItem), a replay, 422 (same key, other body), 400, 403.
        var key = Guid.NewGuid().ToString("N");
        var batch = Body(new { mode = "perItem", items = new object[] { new { op = "create", name = $"Contract {marker} batch", email = $"contract-{marker}-batch@example.test", programType = "PRIME" }, new { op = "delete", id = 9_000_000_000_000 } } });
        var withKey = new Dictionary<string, string> { ["Idempotency-Key"] = key };
        await probe.SendAsync("writer", HttpMethod.Post, "/api/v1/optimized/clients/batch", batch, withKey);
        await probe.SendAsync("writer", HttpMethod.Post, "/api/v1/optimized/clients/batch", batch, withKey);
        await probe.SendAsync("writer", HttpMethod.Post, "/api/v1/optimized/clients/batch", Body(new { items = new object[] { new { op = "delete", id = 9_000_000_000_001 } } }), withKey);
        await probe.SendAsync("writer", HttpMethod.Post, "/api/v1/optimized/clients/batch", Body(new { items = Array.Empty<object>() }));
        await probe.SendAsync("writer", HttpMethod.Post, "/api/v1/optimized/clients/batch", Body(new { items = new object[] { new { op = "update", id = 9_000_000_000_000, status = "active" } } }));
        await probe.SendAsync("reader", HttpMethod.Post, "/api/v1/optimized/clients/batch", batch);

        // By ids: 200, 400 (empty, too many, not numbers).
        await probe.SendAsync("reader", HttpMethod.Post, "/api/v1/optimized/clients/by-ids", Body(new { ids = new[] { id, 9_000_000_000_000 } }));
        await probe.SendAsync("reader", HttpMethod.Post, "/api/v1/optimized/clients/by-ids", Body(new { ids = Array.Empty<long>() }));
        await probe.SendAsync("reader", HttpMethod.Post, "/api/v1/optimized/clients/by-ids", Body(new { ids = Enumerable.Range(1, 1001) }));
        await probe.SendAsync("reader", HttpMethod.Post, "/api/v1/optimized/clients/by-ids", """{"ids":["1"]}""");

        // Export: CSV, NDJSON, 406, 400, 403 (a reader), HEAD.
        await probe.SendAsync("admin", HttpMethod.Get, $"/api/v1/optimized/clients/bulk-export?q={marker}");
        await probe.SendAsync("admin", HttpMethod.Get, $"/api/v1/optimized/clients/bulk-export?q={marker}", headers: Ndjson);
        await probe.SendAsync("admin", HttpMethod.Get, $"/api/v1/optimized/clients/bulk-export?q={marker}", headers: new Dictionary<string, string> { ["Accept"] = "application/xml" });
        await probe.SendAsync("admin", HttpMethod.Get, "/api/v1/optimized/clients/bulk-export?sort=nope");
        await probe.SendAsync("reader", HttpMethod.Get, "/api/v1/optimized/clients/bulk-export");
        await probe.SendAsync("admin", HttpMethod.Head, $"/api/v1/optimized/clients/bulk-export?q={marker}");

        // Analytics and dashboard: 200, 304, 400s.
        var (_, _, dashboard) = await probe.SendAsync("reader", HttpMethod.Get, "/api/v1/optimized/clients/dashboard");
        await probe.SendAsync("reader", HttpMethod.Get, "/api/v1/optimized/clients/dashboard", headers: new Dictionary<string, string> { ["If-None-Match"] = dashboard.Headers.ETag?.ToString() ?? "\"none\"" });
        await probe.SendAsync("reader", HttpMethod.Get, "/api/v1/optimized/clients/dashboard?x=1");
        await probe.SendAsync("reader", HttpMethod.Get, "/api/v1/optimized/clients/analytics/performance?granularity=week");
        await probe.SendAsync("reader", HttpMethod.Get, "/api/v1/optimized/clients/analytics/performance?from=2020-01-01&to=2019-01-01");
        await probe.SendAsync("reader", HttpMethod.Get, "/api/v1/optimized/clients/analytics/performance?granularity=hour");

        // Cache: statistics and clear (admin), 403 for a writer.
        await probe.SendAsync("admin", HttpMethod.Get, "/api/v1/cache/statistics");
        await probe.SendAsync("writer", HttpMethod.Get, "/api/v1/cache/statistics");
        await probe.SendAsync("admin", HttpMethod.Post, "/api/v1/cache/clear");
        await probe.SendAsync("writer", HttpMethod.Post, "/api/v1/cache/clear");

        // DELETE: 412 (stale), 204, 404.
        await probe.SendAsync("writer", HttpMethod.Delete, $"/api/v1/clients/{id}", headers: new Dictionary<string, string> { ["If-Match"] = $"\"{id}.1\"" });
        await probe.SendAsync("writer", HttpMethod.Delete, $"/api/v1/clients/{id}");
        await probe.SendAsync("writer", HttpMethod.Delete, $"/api/v1/clients/{id}");
        await probe.SendAsync("reader", HttpMethod.Delete, $"/api/v1/clients/{id}");

        AssertEveryOperationAnsweredAndConformed(probe);
    }

    [Fact]
    public async Task EveryPerfApiAnswerIsOneItsDocumentDescribes()
    {
        var probe = await ContractProbe.ForAsync(stack, "perf-api");

        await probe.SendAsync(null, HttpMethod.Get, "/api/v1/performance/health");
        await probe.SendAsync(null, HttpMethod.Get, "/api/v1/performance/health?x=1");
        foreach (var path in new[] { "health/details", "metrics", "alerts", "optimization/recommendations", "indexes", "telemetry/summary" })
        {
            await probe.SendAsync("reader", HttpMethod.Get, $"/api/v1/performance/{path}");
            await probe.SendAsync("reader", HttpMethod.Get, $"/api/v1/performance/{path}?bogus=1");
            await probe.SendAsync(null, HttpMethod.Get, $"/api/v1/performance/{path}");
            await probe.SendAsync("ingest", HttpMethod.Get, $"/api/v1/performance/{path}");
        }

        foreach (var window in new[] { "5m", "15m", "1h", "24h", "7d", "2d" })
        {
            await probe.SendAsync("reader", HttpMethod.Get, $"/api/v1/performance/analytics?window={window}");
        }

        await probe.SendAsync("reader", HttpMethod.Get, "/api/v1/performance/slow-queries?threshold=0.25&window=15m&limit=5");
        await probe.SendAsync("reader", HttpMethod.Get, "/api/v1/performance/slow-queries?threshold=-1");
        await probe.SendAsync("reader", HttpMethod.Get, "/api/v1/performance/slow-queries?limit=0");
        await probe.SendAsync("reader", HttpMethod.Get, "/api/v1/performance/indexes/applications/00000000000000000000000000000000");
        await probe.SendAsync("reader", HttpMethod.Post, "/api/v1/performance/indexes/no-such-recommendation/apply");
        await probe.SendAsync("admin", HttpMethod.Post, "/api/v1/performance/indexes/no-such-recommendation/apply");
        await probe.SendAsync("admin", HttpMethod.Post, "/api/v1/performance/cache/clear");
        await probe.SendAsync("reader", HttpMethod.Post, "/api/v1/performance/cache/clear");
        await probe.SendAsync("reader", HttpMethod.Post, "/api/v1/performance/benchmark");
        await probe.SendAsync("admin", HttpMethod.Post, "/api/v1/performance/benchmark?bogus=1");

        // The OTLP receiver: protobuf only, ingest key only.
        await probe.SendAsync("ingest", HttpMethod.Post, "/v1/traces", "{}");
        await probe.SendAsync("admin", HttpMethod.Post, "/v1/traces", "", contentType: "application/x-protobuf");
        await probe.SendAsync("ingest", HttpMethod.Post, "/v1/metrics", "", contentType: "application/x-protobuf");
        await probe.SendAsync("ingest", HttpMethod.Post, "/v1/metrics", "{}");

        // A benchmark runs for seconds, and an application's 200 needs an index built first: both have tests of their own.
        AssertEveryOperationAnsweredAndConformed(probe, exempt: ["POST /api/v1/performance/benchmark", "GET /api/v1/performance/indexes/applications/{applicationId}"]);
    }

    /// <summary>
    /// Every documented operation was reached with a 2xx (but <paramref name="exempt"/>, too costly to run here and
    /// run by their own tests), and no answer broke the document.
    /// </summary>
    private static void AssertEveryOperationAnsweredAndConformed(ContractProbe probe, IReadOnlyCollection<string>? exempt = null)
    {
        var answered = probe.Seen.Where(s => s.Status is >= 200 and < 300).Select(s => $"{s.Method.Replace("HEAD", "GET", StringComparison.Ordinal)} {s.Template}").ToHashSet();
        var documented = probe.Contract.Operations.Select(o => $"{o.Method.ToUpperInvariant()} {o.Template}").ToList();
        var unreached = documented.Where(o => !answered.Contains(o) && !(exempt?.Contains(o) ?? false)
            && !o.Contains("/apply", StringComparison.Ordinal) && !o.StartsWith("POST /v1/", StringComparison.Ordinal)).ToList();

        Assert.True(probe.Violations.Count == 0, $"{probe.Violations.Count} answers the document does not describe:{Environment.NewLine}{string.Join(Environment.NewLine, probe.Violations)}");
        Assert.True(unreached.Count == 0, $"Operations never answered with a 2xx here: {string.Join(", ", unreached)}");
    }
}
