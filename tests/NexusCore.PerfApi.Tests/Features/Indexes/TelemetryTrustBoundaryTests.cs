using System.Text.Json;
using NexusCore.PerfApi.Analysis.Recommendations;
using Npgsql;

namespace NexusCore.PerfApi.Tests.Features.Indexes;

/// <summary>
/// The advisor's trust boundary, attacked the way issue 23 describes: a statement text from telemetry (chosen by
/// whoever holds the ingest key) is never planned, a statement of another database login is never analysed, one
/// calling a function outside the planning allowlist is refused, and what PostgreSQL says while planning never
/// comes back. Each test ends with the same two checks: the recording function (<see cref="RecordingFunction"/>)
/// was never called by the advisor, and the whole answer of <c>GET …/indexes?refresh=true</c> holds neither its
/// marker nor PostgreSQL's message.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class TelemetryTrustBoundaryTests(PerfApiStack stack)
{
    /// <summary>About 12 MB: above the advisor's table thresholds, so each statement here has index candidates.</summary>
    private const int Rows = 100_000;

    /// <summary>What PostgreSQL prints for a failing cast (the value follows): never in an answer.</summary>
    private const string CastMessage = "invalid input syntax";

    private readonly PerfApiClient _reader = new(stack);

    [Fact]
    public async Task ASpanWhoseStatementCallsAFunctionInAPredicateIsNeverPlanned()
    {
        await using var table = await TestTable.CreateAsync(stack, "ix_trust_span", Rows);
        await using var recording = await RecordingFunction.CreateAsync(stack);
        // The issue's attack: no literal (normalization leaves it alone); the planner would evaluate the STABLE
        // function for the selectivity of code = …, and the failing cast would print its result.
        var attack = $"SELECT id FROM {table.Name} WHERE lookup = $1 AND code = {recording.Name}()::int";

        // Ten runs just under the slow-query threshold: among the busiest statements, raising no alert.
        await StatementSpans.SendAsync(stack, $"trust-span-{Guid.NewGuid().ToString("N")[..8]}", [attack], runs: 10, TimeSpan.FromMilliseconds(950));
        var page = await _reader.RefreshedIndexesAsync();

        Assert.DoesNotContain(page.Items("statements"), s => s.Text("query").Contains(table.Name, StringComparison.Ordinal));
        Assert.True(page.GetProperty("telemetryUnmatched").GetInt32() >= 1, page.GetProperty("telemetryUnmatched").ToString());
        await AssertNoFunctionRanAsync(recording, expected: 0);
        AssertNothingLeaked(page, recording.Name, recording.Marker, CastMessage);
    }

    [Fact]
    public async Task AnApplicationStatementCallingAFunctionOutsideTheAllowlistIsRefusedAndOneThatFailsToPlanGivesOnlyItsSqlstate()
    {
        await using var table = await TestTable.CreateAsync(stack, "ix_trust_plan", Rows);
        await using var recording = await RecordingFunction.CreateAsync(stack);
        var view = $"{table.Name}_v";
        await table.ExecuteAsync($"CREATE VIEW {view} AS SELECT id FROM {table.Name}; GRANT SELECT ON {view} TO nexuscore_clients_api, nexuscore_advisor");
        var callsFunction = $"SELECT id FROM {table.Name} WHERE lookup = $1 AND code <> length({recording.Name}())";
        var readsView = $"SELECT t.id FROM {table.Name} t JOIN {view} v ON v.id = t.id WHERE t.lookup = $1";

        // Both run as the application (pg_stat_statements keeps them); running the first calls the function.
        await table.RunAsync(callsFunction, Enumerable.Range(1, 6).Select(i => new[] { TestTable.Lookup(i) }));
        await table.RunAsync(readsView, Enumerable.Range(1, 6).Select(i => new[] { TestTable.Lookup(i) }));
        var direct = await recording.CallsAsync();
        Assert.True(direct > 0, "running the statement should have called the function");
        // A migration changes the view: planning the unchanged statement now folds a cast that fails and prints the value.
        await table.ExecuteAsync($"CREATE OR REPLACE VIEW {view} AS SELECT id FROM {table.Name} WHERE code = '{recording.Marker}'::text::int");

        var page = await _reader.RefreshedIndexesAsync();

        var refused = Statement(page, callsFunction);
        Assert.Equal(("rejected", "it calls a function outside the advisor's planning allowlist, so it is never planned"), (refused.Text("outcome"), refused.Text("detail")));
        var failed = Statement(page, readsView);
        Assert.Equal(("unplannable", "22P02: a value could not be converted to the type the statement needs"), (failed.Text("outcome"), failed.Text("detail")));
        await AssertNoFunctionRanAsync(recording, expected: direct);
        AssertNothingLeaked(page, recording.Marker, CastMessage);
    }

    [Fact]
    public async Task AnotherLoginsStatementsInPgStatStatementsAreNeverAnalysed()
    {
        await using var table = await TestTable.CreateAsync(stack, "ix_trust_role", Rows);
        await using var recording = await RecordingFunction.CreateAsync(stack);
        await using var other = await ThrowawayRole.CreateAsync(stack, table.Name);
        // Slow enough (the sleep) to be among the busiest statements of the database, where an advisor reading
        // every role's rows would plan it.
        var sql = $"SELECT id, pg_sleep(0.25) FROM {table.Name} WHERE lookup = $1 AND code <> length({recording.Name}())";
        for (var i = 1; i <= 6; i++)
        {
            await using var command = other.Db.CreateCommand(sql);
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = TestTable.Lookup(i) });
            await command.ExecuteNonQueryAsync();
        }

        var direct = await recording.CallsAsync();
        Assert.True(direct > 0, "the role's own runs should have called the function");
        var rank = await RankAmongAllRolesAsync(recording.Name, other.Name);
        Assert.True(rank is >= 1 and <= 50, $"the role's statement should be among the 50 busiest of every role (MaxStatements), to show the filter matters; it is {rank?.ToString() ?? "absent"}");

        var page = await _reader.RefreshedIndexesAsync();

        Assert.DoesNotContain(page.Items("statements"), s => s.Text("query").Contains(recording.Name, StringComparison.Ordinal));
        await AssertNoFunctionRanAsync(recording, expected: direct);
        AssertNothingLeaked(page, recording.Name, recording.Marker, other.Name, CastMessage);
    }

    [Fact]
    public async Task TelemetryMatchingAnApplicationStatementOnlyAddsEvidenceAndARefreshWithinTheIntervalReusesTheAnalysis()
    {
        await using var table = await TestTable.CreateAsync(stack, "ix_trust_match", Rows);
        await using var recording = await RecordingFunction.CreateAsync(stack);
        var sql = $"SELECT id, pad FROM {table.Name} WHERE other = $1";
        await table.RunAsync(sql, Enumerable.Range(1, 10).Select(i => new[] { TestTable.Other(i) }));
        var service = $"trust-match-{Guid.NewGuid().ToString("N")[..8]}";
        // The same statement as a service reports it (a literal, normalized to ?), and a lookalike that hides a call.
        var same = $"SELECT id, pad FROM {table.Name} WHERE other = 42";
        var lookalike = $"SELECT id, pad FROM {table.Name} WHERE other = 42 AND code <> length({recording.Name}())";
        await StatementSpans.SendAsync(stack, service, [same, lookalike], runs: 8, TimeSpan.FromMilliseconds(30));

        var page = await _reader.RefreshedIndexesAsync();

        var analysed = Assert.Single(page.Items("statements"), s => s.Text("query").Contains(table.Name, StringComparison.Ordinal));
        Assert.Equal((sql, "pg_stat_statements"), (analysed.Text("query"), analysed.Text("source")));
        Assert.True(analysed.Long("calls") >= 10, analysed.ToString());
        AssertTelemetry(analysed, service);
        var advice = page.Recommendation(table.Name) ?? throw new Xunit.Sdk.XunitException($"No recommendation for {table.Name}: {analysed}");
        Assert.Equal(["other"], advice.Strings("columns"));
        var evidence = Assert.Single(advice.Items("queries"));
        Assert.Equal(sql, evidence.Text("query"));
        AssertTelemetry(evidence, service);
        Assert.True(page.GetProperty("telemetryUnmatched").GetInt32() >= 1);
        Assert.True(page.GetProperty("refreshed").GetBoolean());
        await AssertNoFunctionRanAsync(recording, expected: 0);
        AssertNothingLeaked(page, recording.Name, recording.Marker, CastMessage);

        // Within MinRefreshInterval a refresh gets the same analysis back, saying when the next may run.
        var nextRefreshAt = page.GetProperty("nextRefreshAt").GetDateTimeOffset();
        var sentAt = DateTimeOffset.UtcNow;
        var again = await _reader.GetAsync("/api/v1/performance/indexes?refresh=true");

        Assert.True(sentAt < nextRefreshAt, $"the second refresh was sent at {sentAt:O}, after the interval ended ({nextRefreshAt:O}): the machine stalled");
        Assert.False(again.GetProperty("refreshed").GetBoolean());
        Assert.Equal(page.GetProperty("analyzedAt").GetDateTimeOffset(), again.GetProperty("analyzedAt").GetDateTimeOffset());
        Assert.Equal(nextRefreshAt, again.GetProperty("nextRefreshAt").GetDateTimeOffset());
        var analyzedAt = page.GetProperty("analyzedAt").GetDateTimeOffset();
        Assert.True(nextRefreshAt >= analyzedAt + PerfApiStack.MinRefreshInterval, $"next refresh {nextRefreshAt:O}, analysis started {analyzedAt:O}");
    }

    private static void AssertTelemetry(JsonElement statement, string service)
    {
        var telemetry = statement.GetProperty("telemetry");
        Assert.Equal([service], telemetry.Strings("services"));
        Assert.Equal(8, telemetry.Long("calls"));
        Assert.Equal(30, telemetry.Number("meanMs"), 2);
    }

    /// <summary>The recording table holds exactly <paramref name="expected"/> calls (the test's own runs): the advisor added none.</summary>
    private static async Task AssertNoFunctionRanAsync(RecordingFunction recording, long expected)
    {
        var calls = await recording.CallsAsync();
        Assert.True(calls == expected, $"{recording.Name} was called {calls} times, expected {expected} (callers: {await recording.CallersAsync()})");
    }

    /// <summary>The whole answer, as sent, holds none of <paramref name="markers"/>.</summary>
    private static void AssertNothingLeaked(JsonElement page, params string[] markers)
    {
        var json = page.GetRawText();
        foreach (var marker in markers)
        {
            Assert.False(json.Contains(marker, StringComparison.OrdinalIgnoreCase), $"The answer holds '{marker}': {json}");
        }
    }

    private static JsonElement Statement(JsonElement page, string sql) =>
        page.Items("statements").Select(s => (JsonElement?)s).FirstOrDefault(s => s!.Value.Text("query") == sql)
            ?? throw new Xunit.Sdk.XunitException($"{sql} was not analysed: {page.GetProperty("statements")}");

    /// <summary>
    /// Where the role's statement ranks by total time among every role's statements that pass the advisor's
    /// default thresholds (as an advisor reading all of pg_stat_statements would see them); null when absent.
    /// </summary>
    private async Task<long?> RankAmongAllRolesAsync(string function, string role)
    {
        await using var command = stack.ClientsDb.CreateCommand("""
            SELECT rank FROM (
                SELECT s.query, bool_or(s.userid = (SELECT oid FROM pg_roles WHERE rolname = $2)) AS by_role,
                       row_number() OVER (ORDER BY sum(s.total_exec_time) DESC) AS rank
                FROM pg_stat_statements s
                WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND s.query ~* '^[[:space:](]*(select|with|update|delete)[^[:alnum:]_]'
                GROUP BY s.query
                HAVING sum(s.total_exec_time) / sum(s.calls) >= 1 AND sum(s.calls) >= 5
            ) ranked
            WHERE by_role AND query LIKE '%' || $1 || '%'
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = function });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = role });
        return await command.ExecuteScalarAsync() is long rank ? rank : null;
    }
}
