using NexusCore.PerfApi.Features.SlowQueries;
using NexusCore.PerfApi.Sql;

namespace NexusCore.PerfApi.Tests.Sql;

/// <summary>What PerfApi saw in a span and what pg_stat_statements stored for the same statement must meet.</summary>
[NoStack]
public sealed class StatementMatcherTests
{
    [Theory]
    // Npgsql's text as sent, and pg_stat_statements' text of the same statement.
    [InlineData("SELECT pg_sleep($1)", "SELECT pg_sleep($1)")]
    [InlineData("select  id,name\n  from clients\twhere id = $1", "SELECT id, name FROM clients WHERE id = $1")]
    [InlineData("SELECT id FROM clients WHERE status = 'active' AND program_type = 'PRIME' LIMIT 51", "SELECT id FROM clients WHERE status = $1 AND program_type = $2 LIMIT $3")]
    [InlineData("SELECT * FROM clients WHERE id IN (1, 2, 3) -- ids", "SELECT * FROM clients WHERE id IN ($1, $2, $3)")]
    [InlineData("SELECT * FROM clients WHERE id = ANY($1) /* by ids */;", "SELECT * FROM clients WHERE id = ANY($1)")]
    [InlineData("UPDATE clients SET version = version + 1 WHERE id = -5", "update clients set version = version + $1 where id = $2")]
    [InlineData("SELECT count(*)::int FROM \"Clients\" WHERE created_at > now() - interval '1 day'", "SELECT count(*)::int FROM \"Clients\" WHERE created_at > now() - interval $1")]
    [InlineData("SELECT $1::text", "SELECT $1 :: text")]
    public void TheSameStatementAsSentAndAsPgStatStatementsStoresItHasOneKey(string sent, string stored)
    {
        var seen = SqlNormalizer.Normalize(sent, 2048);

        var key = Assert.Single(StatementMatcher.Keys(seen));

        Assert.True(StatementMatcher.Matches(key, StatementMatcher.Key(stored)), $"{key} <> {StatementMatcher.Key(stored)}");
    }

    [Theory]
    [InlineData("SELECT id FROM clients WHERE id = $1", "SELECT id FROM clients WHERE email = $1")]
    [InlineData("SELECT id FROM \"Clients\"", "SELECT id FROM \"clients\"")]
    [InlineData("SELECT a - 1 FROM t", "SELECT a FROM t")]
    [InlineData("SELECT pg_sleep($1)", "SELECT pg_sleep($1) FROM clients")]
    public void DifferentStatementsHaveDifferentKeys(string a, string b) =>
        Assert.NotEqual(StatementMatcher.Key(a), StatementMatcher.Key(b));

    [Fact]
    public void ABatchHasOneKeyPerStatement()
    {
        var keys = StatementMatcher.Keys("SELECT id FROM clients LIMIT 51; SELECT count(*) FROM clients WHERE status = $1;");

        Assert.Equal(["select id from clients limit ?", "select count(*)from clients where status=?"], keys);
    }

    [Fact]
    public void AStatementCutByTheStoreMatchesTheTextItStartsWith()
    {
        var full = "SELECT " + string.Join(", ", Enumerable.Range(1, 400).Select(i => $"column_{i}")) + " FROM clients WHERE id = $1";
        var cut = SqlNormalizer.Normalize(full, 256);

        var key = Assert.Single(StatementMatcher.Keys(cut));

        Assert.EndsWith("…", key, StringComparison.Ordinal);
        Assert.True(StatementMatcher.Matches(key, StatementMatcher.Key(full)));
        Assert.False(StatementMatcher.Matches(key, StatementMatcher.Key("SELECT column_1 FROM clients")));
    }
}
