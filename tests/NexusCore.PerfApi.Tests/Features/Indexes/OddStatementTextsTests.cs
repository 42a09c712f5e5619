using System.Net;
using System.Text.Json;
using NexusCore.PerfApi.Analysis.Indexes;
using Npgsql;

namespace NexusCore.PerfApi.Tests.Features.Indexes;

/// <summary>
/// Statement texts a fuzzer sent in PostgreSQL spans' <c>db.query.text</c> (a NUL character, control characters,
/// unterminated quoting, several statements, texts PostgreSQL cannot plan): telemetry is never planned, so none of
/// them reaches the database or the answer (they are only counted), and the analysis of the application's own
/// statements, their recommendations and the apply route are unharmed.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class OddStatementTextsTests(PerfApiStack stack)
{
    private readonly PerfApiClient _reader = new(stack);
    private readonly PerfApiClient _admin = new(stack, "admin");

    [Fact]
    public async Task OddStatementTextsInTelemetryAreNeverAnalysedAndTheApplicationsStatementsAreStillAdvised()
    {
        await using var table = await TestTable.CreateAsync(stack, "ix_adv_odd", 200_000);
        var t = table.Name;
        var good = $"SELECT id, pad FROM {t} WHERE code = $1";
        await table.RunAsync(good, Enumerable.Range(1, 6).Select(i => new[] { i * 1000L }));
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
            $"SELECT id FROM {t} WHERE lookup = $1 \0",
            $"WITH x AS (DELETE FROM {t} WHERE id = $1 RETURNING id) SELECT * FROM x",
            $"SELECT id FROM {t} WHERE id = $1 FOR UPDATE",
            $"SELECT pg_sleep(30) FROM {t} WHERE id = $1",
            $"SELECT id FROM {t} WHERE lookup = $1 \u0001",
            $"SELECT id FROM {t} WHERE lookup = $1 \u001f\u007f\b",
        ];

        // Six runs of each, just under the slow-query threshold: they would be among the busiest statements. The
        // good statement is reported too, as its service ran it.
        await StatementSpans.SendAsync(stack, $"odd-texts-{Guid.NewGuid().ToString("N")[..8]}", [good, .. odd], runs: 6, TimeSpan.FromMilliseconds(900));

        var page = await _reader.RefreshedIndexesAsync();

        var advice = page.Items("recommendations").Single(r => r.Text("table") == t && r.Strings("columns").SequenceEqual(["code"]));
        Assert.Equal("hypopg", advice.Text("proof"));
        var evidence = Assert.Single(advice.Items("queries"));
        Assert.Equal((good, "pg_stat_statements"), (evidence.Text("query"), evidence.Text("source")));
        Assert.Equal(6, evidence.GetProperty("telemetry").Long("calls"));
        // Only the application's statement is analysed; the odd texts were counted, never planned nor shown.
        var analysed = Assert.Single(page.Items("statements"), s => s.Text("query").Contains(t, StringComparison.Ordinal));
        Assert.Equal((good, "recommended"), (analysed.Text("query"), analysed.Text("outcome")));
        Assert.True(page.GetProperty("telemetryUnmatched").GetInt32() >= 10, page.GetProperty("telemetryUnmatched").ToString());
        Assert.DoesNotContain(page.Items("statements"), s => s.Text("query").Contains("nonexistent_schema", StringComparison.Ordinal));
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
    public async Task ATextOutsideThePlanningAllowlistNeverReachesThePlanningConnection()
    {
        await using var connections = new AdvisorConnections(await stack.ConnectionStringAsync("clientsdb"), await stack.ConnectionStringAsync("clientsdb"));
        await using var session = await PlanningSession.OpenAsync(connections, PerfApiStack.AdvisorOptions(), null, default);
        await session.BeginAsync(default);

        // A NUL would end the protocol message early and PostgreSQL would close the connection (FATAL); a call
        // outside the allowlist would be evaluated by the planner. Neither is sent: the session stays usable.
        var nul = await session.PlanAsync("SELECT 1 \0", 0, default);
        var call = await session.PlanAsync("SELECT 1 WHERE 1 = length(database_to_xml(true, true, ''))", 0, default);
        var fine = await session.PlanAsync("SELECT 1 WHERE lower($1) = $2", 2, default);

        Assert.Equal((null, PlanningAllowlist.Unreadable), (nul.Plan, nul.Error));
        Assert.Equal((null, PlanningAllowlist.FunctionRefused), (call.Plan, call.Error));
        Assert.True(session.IsOpen);
        Assert.True(fine.Plan is { TotalCost: >= 0 }, fine.Error);
        await session.RollbackAsync(default);
    }
}
