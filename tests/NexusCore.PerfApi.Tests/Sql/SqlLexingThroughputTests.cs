using System.Diagnostics;
using NexusCore.PerfApi.Sql;
using Xunit.Abstractions;

namespace NexusCore.PerfApi.Tests.Sql;

/// <summary>
/// A small, untimed benchmark of the SQL lexer's two hot users: it asserts only the results, and prints the time
/// and the bytes allocated per statement for normalization (the store's ingest path, once per distinct text) and
/// for match keys (every pg_stat_statements row on each slow-queries read and index analysis).
/// Run it with <c>dotnet test tests/NexusCore.PerfApi.Tests -c Release --filter SqlLexingThroughput --logger "console;verbosity=detailed"</c>.
/// </summary>
[NoStack]
public sealed class SqlLexingThroughputTests(ITestOutputHelper output)
{
    private const int Rounds = 20_000;

    /// <summary>Texts as services send them: literals inline (each distinct, so none is cached), comments, lists.</summary>
    private static readonly string[] Texts =
    [
        "SELECT id, name, email, status, program_type, created_at, updated_at, version FROM clients WHERE id = 48213",
        "SELECT id, name, email FROM clients WHERE status = 'active' AND program_type = 'PRIME' ORDER BY lower(name), id LIMIT 51",
        "/* clients-api: search */ SELECT count(*) FROM clients WHERE search_vector @@ websearch_to_tsquery('english', 'acme corp') AND created_at >= '2026-01-01'::timestamptz",
        "SELECT * FROM clients WHERE id IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16) -- batch read",
        "INSERT INTO clients (name, email, status, program_type) VALUES ('A', 'a@x.io', 'active', 'BASIC'), ('B', 'b@x.io', 'active', 'PRIME'), ('C', 'c@x.io', 'inactive', 'BASIC')",
        "UPDATE clients SET name = E'O\\'Brien', updated_at = now(), version = version + 1 WHERE id = 77 AND version = 3",
        "SELECT date_trunc('day', created_at)::date, status, count(*) FROM clients WHERE created_at > now() - interval '7 days' GROUP BY 1, 2 ORDER BY 1",
        "SELECT request_hash, status_code, response FROM idempotency_keys WHERE scope = $1 AND key = $2 AND created_at > now() - make_interval(hours => 24)",
    ];

    [Fact]
    public void NormalizationAndMatchKeysArePrintedPerStatementWithTheirAllocations()
    {
        var normalized = Texts.Select(t => SqlNormalizer.Normalize(t, 2048)).ToArray();
        Assert.Equal("SELECT * FROM clients WHERE id IN (?)", normalized[3]);
        Assert.Equal("INSERT INTO clients (name, email, status, program_type) VALUES (?)", normalized[4]);

        var normalize = Measure(() =>
        {
            var length = 0;
            foreach (var text in Texts)
            {
                length += SqlNormalizer.Shape(text, 2048).Statement.Length;
            }

            return length;
        });
        var keys = Measure(() =>
        {
            var length = 0;
            foreach (var text in Texts)
            {
                length += StatementMatcher.Key(text).Length;
            }

            return length;
        });

        output.WriteLine($"normalize (Shape): {normalize.Nanoseconds:N0} ns and {normalize.Bytes:N0} B per statement");
        output.WriteLine($"match key (Key):   {keys.Nanoseconds:N0} ns and {keys.Bytes:N0} B per statement");
        Assert.True(normalize.Result > 0 && keys.Result > 0);
    }

    private static (double Nanoseconds, double Bytes, long Result) Measure(Func<int> round)
    {
        for (var i = 0; i < 1000; i++)
        {
            round();
        }

        long result = 0;
        var bytes = GC.GetAllocatedBytesForCurrentThread();
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < Rounds; i++)
        {
            result += round();
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        bytes = GC.GetAllocatedBytesForCurrentThread() - bytes;
        var statements = (double)Rounds * Texts.Length;
        return (elapsed.TotalNanoseconds / statements, bytes / statements, result);
    }
}
