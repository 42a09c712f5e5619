using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Npgsql;

namespace NexusCore.PerfApi.Tests.Features.SlowQueries;

/// <summary>
/// A real slow statement, run by the test against clientsdb with its Npgsql spans exported to PerfApi: it must
/// be listed within seconds with the count and timing the spans had, joined to its pg_stat_statements row.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class SlowQueriesTests(PerfApiStack stack)
{
    private const string SleepSql = "SELECT pg_sleep($1)";

    private readonly PerfApiClient _perf = new(stack);

    [Fact]
    public async Task ASlowStatementIsListedWithinSecondsWithItsCountTimingTraceAndPgStatStatementsRow()
    {
        // As the application: slow-queries joins only the application roles' pg_stat_statements rows.
        await using var db = await ClientsDb.OpenAsync(stack, "perf-tests-slow-queries", resource: "clientsdb-clients-api");
        var before = await PgStatAsync(db, SleepSql);
        using var telemetry = new TestTelemetry(stack, "slow-queries");
        string traceId;
        using (var workload = TestTelemetry.Source.StartActivity("slow workload"))
        {
            traceId = workload!.TraceId.ToHexString();
            foreach (var seconds in new[] { 1.1, 1.5, 0.05 })
            {
                await SleepAsync(db, seconds);
            }
        }

        var spans = telemetry.SpansOf(SleepSql);
        Assert.Equal(3, spans.Count);
        var finished = Stopwatch.GetTimestamp();

        var listed = await Eventually.WaitAsync(async () => Find(await _perf.GetAsync("/api/v1/performance/slow-queries?window=5m"), telemetry.Service),
            "the slow statement in slow-queries", TimeSpan.FromSeconds(10));
        var seenAfter = Stopwatch.GetElapsedTime(finished);

        Assert.True(seenAfter < TimeSpan.FromSeconds(5), $"listed after {seenAfter}");
        Assert.Equal(SleepSql, listed.Text("statement"));
        Assert.Equal("SELECT", listed.Text("operation"));
        Assert.Equal(3, listed.Long("count"));
        Assert.Equal(2, listed.Long("slowCount"));
        Assert.Equal(spans.Average(s => s.Duration.TotalMilliseconds), listed.Number("meanMs"), 3);
        Assert.Equal(spans.Max(s => s.Duration.TotalMilliseconds), listed.Number("maxMs"), 3);
        Assert.InRange(listed.Number("maxMs"), 1500, 1500 + 3000); // the 1.5 s sleep, with room for a loaded machine
        Assert.Equal(traceId, listed.Text("sampleTraceId"));
        Assert.InRange(DateTimeOffset.UtcNow - listed.GetProperty("lastSeen").GetDateTimeOffset(), TimeSpan.Zero, TimeSpan.FromSeconds(30));

        var pgStat = Assert.Single(listed.Items("pgStatStatements"));
        var after = await PgStatAsync(db, SleepSql);
        Assert.Equal(SleepSql, pgStat.Text("query"));
        Assert.Equal(before.Calls + 3, pgStat.Long("calls"));
        Assert.Equal(after.Calls, pgStat.Long("calls"));
        Assert.Equal(before.Rows + 3, pgStat.Long("rows"));
        Assert.InRange(pgStat.Number("totalExecTimeMs") - before.TotalMs, 2640, 2640 + 3000);
        Assert.Equal(pgStat.Number("totalExecTimeMs") / pgStat.Long("calls"), pgStat.Number("meanExecTimeMs"), 6);
        Assert.Equal(JsonValueKind.Null, (await _perf.GetAsync("/api/v1/performance/slow-queries?window=5m")).GetProperty("pgStatStatementsUnavailable").ValueKind);

        // The threshold of the call replaces SLOW_QUERY_THRESHOLD (1 s): above the slowest run, the statement is not
        // slow; between the two slow runs (as the spans measured them), one of them is.
        var slowest = spans.Max(s => s.Duration.TotalSeconds);
        var strict = await _perf.GetAsync(FormattableString.Invariant($"/api/v1/performance/slow-queries?window=5m&threshold={slowest + 0.5:0.###}"));
        Assert.Equal(Math.Round(slowest + 0.5, 3), strict.Number("thresholdSeconds"), 9);
        Assert.Null(Find(strict, telemetry.Service));
        var middle = spans.Select(s => s.Duration.TotalSeconds).Order().Skip(1).Average();
        var between = Find(await _perf.GetAsync(FormattableString.Invariant($"/api/v1/performance/slow-queries?window=5m&threshold={middle:0.######}")), telemetry.Service);
        Assert.Equal((3L, 1L), (between!.Value.Long("count"), between.Value.Long("slowCount")));

        // The slow-query rule gives advice over the same data.
        var advice = (await _perf.GetAsync("/api/v1/performance/optimization/recommendations?window=5m")).Items("recommendations")
            .Single(r => r.Text("rule") == "slow_queries");
        Assert.True(advice.GetProperty("evidence").Number("slowRuns") >= 2);
        Assert.True(advice.GetProperty("evidence").Number("slowestMaxMs") >= listed.Number("maxMs") - 0.001);
        Assert.Equal("query", advice.Text("category"));
    }

    [Fact]
    public async Task AnotherRolesPgStatStatementsRowIsNeverJoined()
    {
        // A statement only a login that is not the application's ran (the superuser here): a telemetry sender who
        // names its text must not learn its figures.
        var sql = $"SELECT pg_sleep($1) AS other_role_{Guid.NewGuid():N}";
        await using var db = await ClientsDb.OpenAsync(stack, "perf-tests-other-role");
        using var telemetry = new TestTelemetry(stack, "slow-queries-other-role");
        await using (var command = db.CreateCommand(sql))
        {
            command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = 1.1 });
            await command.ExecuteNonQueryAsync();
        }

        Assert.Single(telemetry.SpansOf(sql));
        Assert.Equal(1, (await PgStatAsync(db, sql)).Calls);
        var listed = await Eventually.WaitAsync(async () => Find(await _perf.GetAsync("/api/v1/performance/slow-queries?window=5m"), telemetry.Service),
            "the other role's slow statement in slow-queries", TimeSpan.FromSeconds(10));

        Assert.Equal(sql, listed.Text("statement"));
        Assert.Empty(listed.Items("pgStatStatements"));
    }

    [Theory]
    [InlineData("threshold=-1", "threshold", "threshold_invalid")]
    [InlineData("threshold=abc", "threshold", "threshold_invalid")]
    [InlineData("window=2h", "window", "window_unknown")]
    [InlineData("limit=0", "limit", "limit_out_of_range")]
    [InlineData("thresold=1", "thresold", "unknown_parameter")]
    [InlineData("threshold=1&threshold=2", "threshold", "duplicate_parameter")]
    [InlineData("threshold=", "threshold", "threshold_invalid")]
    [InlineData("limit=abc", "limit", "limit_invalid")]
    [InlineData("limit=%205", "limit", "limit_invalid")]
    [InlineData("limit=", "limit", "limit_invalid")]
    [InlineData("Limit=5", "Limit", "unknown_parameter")] // names are case-sensitive, and the refusal names the parameter as sent
    public async Task ABadParameterIsA400NamingIt(string query, string name, string code)
    {
        var response = await _perf.Http.GetAsync($"/api/v1/performance/slow-queries?{query}");

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        // The error that names it (a repeated parameter may also have failed to bind: both are said).
        Assert.Contains((name, code), problem.Errors.Select(e => (e.Name, e.Code)));
    }

    private static JsonElement? Find(JsonElement page, string service) =>
        page.Items("queries").Select(q => (JsonElement?)q).FirstOrDefault(q => q!.Value.Text("service") == service);

    private static async Task SleepAsync(NpgsqlDataSource db, double seconds)
    {
        await using var command = db.CreateCommand(SleepSql);
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = seconds });
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<(long Calls, long Rows, double TotalMs)> PgStatAsync(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(
            "SELECT coalesce(sum(calls), 0)::bigint, coalesce(sum(rows), 0)::bigint, coalesce(sum(total_exec_time), 0)::float8 FROM pg_stat_statements WHERE query = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sql });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetDouble(2));
    }
}
