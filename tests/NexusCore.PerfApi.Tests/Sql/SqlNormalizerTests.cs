
using NexusCore.PerfApi.Sql;
namespace NexusCore.PerfApi.Tests.Sql;

[NoStack]
public sealed class SqlNormalizerTests
{
    [Theory]
    [InlineData("SELECT * FROM clients WHERE id = 42", "SELECT * FROM clients WHERE id = ?")]
    [InlineData("SELECT *\n  FROM   clients\r\n\tWHERE id = $1", "SELECT * FROM clients WHERE id = $1")]
    [InlineData("SELECT name FROM clients WHERE email = 'a@b.c' AND note = 'it''s'", "SELECT name FROM clients WHERE email = ? AND note = ?")]
    [InlineData("SELECT E'it\\'s', X'1F', B'101'", "SELECT ?, ?, ?")]
    [InlineData("SELECT $tag$ any 'text' $1 $tag$, $$x$$", "SELECT ?, ?")]
    [InlineData("SELECT a FROM t -- trailing comment\nWHERE b = 1 /* note /* nested */ still */ AND c = $2", "SELECT a FROM t WHERE b = ? AND c = $2")]
    [InlineData("SELECT * FROM clients WHERE id IN (1, 2, 3)", "SELECT * FROM clients WHERE id IN (?)")]
    [InlineData("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')", "INSERT INTO t (a, b) VALUES (?)")]
    [InlineData("SELECT t1.col2, \"Weird 7\" FROM t1 WHERE x > -3.5e-2 AND y = .5 AND z = 0xFF", "SELECT t1.col2, \"Weird 7\" FROM t1 WHERE x > -? AND y = ? AND z = ?")]
    [InlineData("SELECT count(*) FROM clients WHERE program_type = $1 LIMIT 10 OFFSET 20", "SELECT count(*) FROM clients WHERE program_type = $1 LIMIT ? OFFSET ?")]
    public void LiteralsCommentsAndWhitespaceAreNormalizedAwayButParametersAndIdentifiersStay(string sql, string expected) =>
        Assert.Equal(expected, SqlNormalizer.Normalize(sql, 2048));

    [Theory]
    [InlineData("SELECT id FROM clients WHERE id = $1", "SELECT", "clients")]
    [InlineData("select id from \"public\".\"Clients\" where id = $1", "SELECT", "public.Clients")]
    [InlineData("INSERT INTO clients (name) VALUES ($1) RETURNING id", "INSERT", "clients")]
    [InlineData("UPDATE ONLY clients SET name = $1", "UPDATE", "clients")]
    [InlineData("DELETE FROM idempotency_keys WHERE created_at < now()", "DELETE", "idempotency_keys")]
    [InlineData("WITH recent AS (SELECT * FROM clients WHERE created_at > $1) SELECT count(*) FROM recent", "SELECT", "recent")]
    [InlineData("SELECT count(*) FROM (SELECT 1 FROM clients) AS sub", "SELECT", null)]
    [InlineData("SELECT 1", "SELECT", null)]
    [InlineData("BEGIN", "BEGIN", null)]
    public void TheVerbAndMainTableAreReadFromTheStatement(string sql, string verb, string? table)
    {
        var shape = SqlNormalizer.Shape(sql, 2048);

        Assert.Equal(verb, shape.Verb);
        Assert.Equal(table, shape.Table);
    }

    [Fact]
    public void ALongStatementIsCutAtTheLimitWithAnEllipsis()
    {
        var sql = "SELECT " + string.Join(", ", Enumerable.Range(0, 500).Select(i => $"column_{i}")) + " FROM clients";

        var normalized = SqlNormalizer.Normalize(sql, 100);

        Assert.Equal(101, normalized.Length);
        Assert.StartsWith("SELECT column_0, column_1,", normalized);
        Assert.EndsWith("…", normalized);
    }

    [Fact]
    public void UnterminatedLiteralsAndCommentsDoNotThrow()
    {
        Assert.Equal("SELECT ?", SqlNormalizer.Normalize("SELECT 'open", 2048));
        Assert.Equal("SELECT", SqlNormalizer.Normalize("SELECT /* open", 2048));
        Assert.Equal("SELECT ?", SqlNormalizer.Normalize("SELECT $x$ open", 2048));
    }
}
