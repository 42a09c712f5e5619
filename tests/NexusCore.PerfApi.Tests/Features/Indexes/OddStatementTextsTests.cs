using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Google.Protobuf;
using Npgsql;
using NexusCore.PerfApi.Features.Indexes.Advisor;
using static NexusCore.PerfApi.Tests.Features.Otlp.OtlpPayloads;

namespace NexusCore.PerfApi.Tests.Features.Indexes;

/// <summary>
/// Statement texts a fuzzer sent in PostgreSQL spans' <c>db.query.text</c> (a NUL character, control characters,
/// unterminated quoting, several statements, texts PostgreSQL cannot plan): each is skipped with its reason in
/// <c>statements</c>, and the analysis of the others, their recommendations and the apply route are unharmed.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class OddStatementTextsTests(StackFixture stack)
{
    private const string NulRejected = "the text holds a NUL character, which no PostgreSQL statement can";

    private readonly PerfApiClient _reader = new(stack);
    private readonly PerfApiClient _admin = new(stack, "admin");

    [Fact]
    public async Task OddStatementTextsAreSkippedAndTheOtherStatementsAreStillAdvised()
    {
        await using var table = await TestTable.CreateAsync(stack.ClientsDb, "ix_adv_odd", 200_000);
        var t = table.Name;
        var good = $"SELECT id, pad FROM {t} WHERE code = $1";
        var nul = $"SELECT id FROM {t} WHERE lookup = $1 \0";
        var control = $"SELECT id FROM {t} WHERE lookup = $1 \u0001";
        string[] odd =
        [
            $"SELECT id FROM {t} WHERE {new string('(', 200)}id = $1{new string(')', 200)}",
            $"SELECT id FROM {t} WHERE lookup = $$unterminated",
            $"SELECT id FROM {t} /* unterminated /* nested */ WHERE id = $1",
            $"SELECT id FROM {t} WHERE lookup = E'\\\\' AND other = E'\\'' AND id = $1",
            $"SELECT id FROM {t} WHERE lookup = U&'\\0041' UESCAPE '!' AND id = $1",
            $"SELECT id FROM {t} WHERE id = $99999999999999999999",
            $"SELECT id FROM {t} WHERE id = $0 AND lookup = ?",
            $"SELECT id FROM \"{t}\"\"x\" WHERE id = $1",
            $"SELECT id FROM {t} c, {t} c WHERE c.id = $1",
            $"SELECT id FROM {t} WHERE id IN ({string.Join(",", Enumerable.Repeat("?", 3000))})",
            "SELECT id FROM nonexistent_schema.nonexistent WHERE x = $1",
            $"SELECT id FROM {t} WHERE other = $1 -- trailing comment without newline",
            $"DELETE FROM {t} USING {t} c2 WHERE {t}.id = c2.id AND c2.other = $1",
            $"UPDATE {t} SET lookup = $1 WHERE other = $2 RETURNING *",
            $"SELECT id FROM {t} WHERE pad BETWEEN $1 AND",
            $"SELECT id FROM {t} ORDER BY",
            $"SELECT id FROM {t} WHERE (other, lookup) = ($1, $2)",
            $"SELECT 'x' FROM {t} WHERE id = $1; DROP TABLE {t}",
            nul,
            $"WITH x AS (DELETE FROM {t} WHERE id = $1 RETURNING id) SELECT * FROM x",
            $"SELECT id FROM {t} WHERE id = $1 FOR UPDATE",
            $"SELECT pg_sleep(30) FROM {t} WHERE id = $1",
            control,
            $"SELECT id FROM {t} WHERE lookup = $1 \u001f\u007f\b",
        ];

        // Six runs of each, just under the slow-query threshold: among the busiest statements, raising no alert.
        await SendSpansAsync([good, .. odd], runs: 6, TimeSpan.FromMilliseconds(900));

        var response = await _reader.Http.GetAsync("/api/v1/performance/indexes?refresh=true");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {text}");
        var page = JsonDocument.Parse(text).RootElement;

        var advice = page.Items("recommendations").Single(r => r.Text("table") == t && r.Strings("columns").SequenceEqual(["code"]));
        Assert.Equal("hypopg", advice.Text("proof"));
        Assert.Contains(advice.Items("queries"), q => q.Text("query") == good && q.Text("source") == "telemetry");
        Assert.Equal("recommended", Statement(page, good).Text("outcome"));

        var skipped = Statement(page, q => q.Contains('\0', StringComparison.Ordinal) && q.Contains(t, StringComparison.Ordinal));
        Assert.Equal(("rejected", NulRejected), (skipped.Text("outcome"), skipped.Text("detail")));
        var unplannable = Statement(page, q => q.Contains('\u0001', StringComparison.Ordinal) && q.Contains(t, StringComparison.Ordinal));
        Assert.Equal("unplannable", unplannable.Text("outcome"));
        Assert.Contains("syntax error", unplannable.Text("detail"), StringComparison.Ordinal);
        Assert.DoesNotContain(page.Items("statements"), s => s.Text("outcome") == "notReached");

        var apply = await _admin.Http.PostAsync("/api/v1/performance/indexes/ffffffffffffffff/apply", null);
        var body = await apply.Content.ReadAsStringAsync();
        await Problem.ReadAsync(apply, HttpStatusCode.NotFound);
        Assert.Contains("recommendation_not_found", body, StringComparison.Ordinal);

        var recommendations = await _reader.GetAsync("/api/v1/performance/optimization/recommendations");
        Assert.Empty(recommendations.Items("failedRules"));
        Assert.Contains(recommendations.Items("recommendations"), r => r.Text("rule") == "index_advisor" && r.Text("action") == advice.Text("statement"));
    }

    [Fact]
    public async Task ATextThatClosesThePlanningConnectionFailsAsItselfAndLeavesNothingToRollBack()
    {
        await using var connections = new AdvisorConnections(await stack.ConnectionStringAsync("clientsdb"));
        await using var session = await PlanningSession.OpenAsync(connections, new IndexAdvisorOptions(), null, default);
        await session.BeginAsync(default);

        // A NUL ends the protocol message early: PostgreSQL answers with a FATAL protocol violation and closes the
        // connection, so there is no savepoint to return to. The analyzer never sends one (it does not lex); if
        // anything else does this, the error is PostgreSQL's, not a "connection is not open" from the rollback.
        var error = await Assert.ThrowsAsync<PostgresException>(() => session.PlanAsync("SELECT 1 \0", 0, default));

        Assert.Equal(PostgresErrorCodes.ProtocolViolation, error.SqlState);
        Assert.False(session.IsOpen);
        await session.RollbackAsync(default);
    }

    private async Task SendSpansAsync(IReadOnlyList<string> statements, int runs, TimeSpan duration)
    {
        var ingest = stack.CreateClient("perf-api", "ingest");
        var before = await AggregatedSpansAsync();
        var now = DateTimeOffset.UtcNow;
        var spans = statements.SelectMany(sql => Enumerable.Range(0, runs).Select(_ => Span(now, duration,
            Attribute("db.system", "postgresql"),
            Attribute("db.system.name", "postgresql"),
            Attribute("db.query.text", sql),
            Attribute("db.operation.name", "SELECT")))).ToArray();
        using var content = new ByteArrayContent(TraceRequest($"odd-texts-{Guid.NewGuid().ToString("N")[..8]}", spans).ToByteArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");

        var response = await ingest.PostAsync("/v1/traces", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Eventually.ThatAsync(async () => await AggregatedSpansAsync() >= before + spans.Length, TimeSpan.FromSeconds(15), "the spans to be aggregated", TimeSpan.FromMilliseconds(100));
    }

    private async Task<long> AggregatedSpansAsync() =>
        (await _reader.GetAsync("/api/v1/performance/telemetry/summary")).GetProperty("spans").Long("aggregated");

    private static JsonElement Statement(JsonElement page, string sql) => Statement(page, q => q == sql);

    private static JsonElement Statement(JsonElement page, Func<string, bool> query) =>
        page.Items("statements").Select(s => (JsonElement?)s).FirstOrDefault(s => query(s!.Value.Text("query")))
            ?? throw new Xunit.Sdk.XunitException($"No such statement among those analysed: {page.GetProperty("statements")}");
}
