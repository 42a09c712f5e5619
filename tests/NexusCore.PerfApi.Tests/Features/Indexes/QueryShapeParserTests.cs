
using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.PerfApi.Sql;
namespace NexusCore.PerfApi.Tests.Features.Indexes;

/// <summary>The shapes Npgsql, psql and pg_stat_statements show: tables, predicates, join keys and sort keys.</summary>
[NoStack]
public sealed class QueryShapeParserTests
{
    [Fact]
    public void AnEqualityOnAParameterIsAnEqualityColumnOfTheOnlyTable()
    {
        var parsed = Parse("SELECT id, name FROM public.orders WHERE customer_id = $1");

        Assert.Equal("select", parsed.Verb);
        Assert.Equal(new TableReference("public", "orders", null), Assert.Single(parsed.Tables));
        Assert.Equal(new ColumnReference(null, "customer_id", ColumnRole.Equality), Assert.Single(parsed.Columns));
        Assert.Equal(1, parsed.ParameterCount);
    }

    [Theory]
    [InlineData("SELECT * FROM t WHERE a < $1", ColumnRole.Range)]
    [InlineData("SELECT * FROM t WHERE $1 >= a", ColumnRole.Range)]
    [InlineData("SELECT * FROM t WHERE a BETWEEN $1 AND $2", ColumnRole.Range)]
    [InlineData("SELECT * FROM t WHERE a IN ($1, $2, $3)", ColumnRole.Equality)]
    [InlineData("SELECT * FROM t WHERE a = ANY($1)", ColumnRole.Equality)]
    [InlineData("SELECT * FROM t WHERE a = ANY ($1::bigint[])", ColumnRole.Equality)]
    [InlineData("SELECT * FROM t WHERE a = $1::timestamp with time zone", ColumnRole.Equality)]
    [InlineData("SELECT * FROM t WHERE a >= now() - interval '1 day'", ColumnRole.Range)]
    [InlineData("SELECT * FROM t WHERE a >= $1 AT TIME ZONE 'UTC'", ColumnRole.Range)]
    [InlineData("SELECT * FROM t WHERE a = 'x''y' -- a comment; not a second statement\n", ColumnRole.Equality)]
    [InlineData("select * from t where (b is null or a = E'\\'') and true", ColumnRole.Equality)]
    [InlineData("SELECT * FROM t WHERE a = $tag$;$tag$", ColumnRole.Equality)]
    public void EachPredicateFormYieldsItsColumnAndRole(string sql, ColumnRole role)
    {
        var column = Assert.Single(Parse(sql).Columns);

        Assert.Equal(("a", role), (column.Column, column.Role));
    }

    [Theory]
    [InlineData("SELECT * FROM t WHERE lower(a) = $1")]
    [InlineData("SELECT * FROM t WHERE a + 1 = $1")]
    [InlineData("SELECT * FROM t WHERE a <> $1")]
    [InlineData("SELECT * FROM t WHERE a NOT IN ($1, $2)")]
    [InlineData("SELECT * FROM t WHERE a LIKE $1")]
    [InlineData("SELECT * FROM t WHERE a::text = $1")]
    [InlineData("SELECT * FROM t WHERE a = b + 1")]
    [InlineData("SELECT extract(year from a), count(*) FROM t GROUP BY 1")]
    public void ExpressionsAndNonIndexableOperatorsYieldNoColumn(string sql) =>
        Assert.Empty(Parse(sql).Columns);

    [Fact]
    public void AliasesQualifyColumnsAndJoinKeysCountOnBothSides()
    {
        var parsed = Parse("""
            SELECT o.id, c.name
            FROM orders AS o
            JOIN customers c ON c.id = o.customer_id
            LEFT JOIN LATERAL (SELECT 1) x ON true
            WHERE o.status = $1 AND o.created_at >= $2
            ORDER BY o.created_at DESC, o.id DESC
            LIMIT $3
            """);

        Assert.Equal([new TableReference(null, "orders", "o"), new TableReference(null, "customers", "c")], parsed.Tables);
        Assert.Equal(
            [
                new ColumnReference("c", "id", ColumnRole.Join),
                new ColumnReference("o", "customer_id", ColumnRole.Join),
                new ColumnReference("o", "status", ColumnRole.Equality),
                new ColumnReference("o", "created_at", ColumnRole.Range),
                new ColumnReference("o", "created_at", ColumnRole.Order, 0),
                new ColumnReference("o", "id", ColumnRole.Order, 1),
            ],
            parsed.Columns);
        Assert.Equal(3, parsed.ParameterCount);
    }

    [Fact]
    public void CommonTableExpressionsAndDerivedTablesAreNotTables()
    {
        var parsed = Parse("""
            WITH recent AS MATERIALIZED (SELECT * FROM events WHERE kind = $1)
            SELECT * FROM recent r, (SELECT id FROM "Users" WHERE "Email" = $2) AS u, generate_series(1, 3) g
            WHERE r.user_id = u.id
            """);

        Assert.Contains("recent", parsed.CommonTableExpressions);
        Assert.Equal(["events", "recent", "Users"], parsed.Tables.Select(t => t.Name));
        Assert.Contains(new ColumnReference(null, "kind", ColumnRole.Equality), parsed.Columns);
        Assert.Contains(new ColumnReference(null, "Email", ColumnRole.Equality), parsed.Columns);
    }

    [Fact]
    public void UpdateAndDeleteTargetsAreTablesAndTheirWhereIsRead()
    {
        var update = Parse("UPDATE accounts SET balance = balance - $1 WHERE owner_id = $2");
        var delete = Parse("DELETE FROM ONLY sessions s USING users u WHERE s.user_id = u.id AND u.email = $1");

        Assert.Equal("accounts", Assert.Single(update.Tables).Name);
        Assert.Equal(new ColumnReference(null, "owner_id", ColumnRole.Equality), Assert.Single(update.Columns));
        Assert.Equal(["sessions", "users"], delete.Tables.Select(t => t.Name));
        Assert.Contains(new ColumnReference("u", "email", ColumnRole.Equality), delete.Columns);
    }

    [Theory]
    [InlineData("SELECT 1; DROP TABLE t", "several statements")]
    [InlineData("INSERT INTO t (a) VALUES ($1)", "INSERT")]
    [InlineData("PREPARE s AS SELECT 1", "PREPARE")]
    [InlineData("EXPLAIN SELECT 1", "EXPLAIN")]
    [InlineData("SELECT * FROM t WHERE a = 'unterminated", "lex")]
    [InlineData("SELECT * FROM t WHERE a = ?", "'?'")]
    [InlineData("SELECT (1", "balance")]
    public void AnythingButOneSelectUpdateOrDeleteIsRejected(string sql, string reason)
    {
        var result = QueryShapeParser.Parse(sql);

        Assert.Null(result.Statement);
        Assert.Contains(reason, result.Rejected);
    }

    [Theory]
    [InlineData("SELECT id FROM t WHERE a = $1 \u0000")]
    [InlineData("SELECT id FROM t WHERE a = '\u0000'")]
    [InlineData("\u0000")]
    public void ATextWithANulCharacterDoesNotLexAndIsRejectedSayingSo(string sql)
    {
        Assert.Null(SqlTokenizer.Tokenize(sql));
        var result = QueryShapeParser.Parse(sql);

        Assert.Null(result.Statement);
        Assert.Equal("the text holds a NUL character, which no PostgreSQL statement can", result.Rejected);
    }

    [Theory]
    [InlineData("\u0001")]
    [InlineData("\u001f")]
    [InlineData("\u007f")]
    [InlineData("\u0008")]
    public void OtherControlCharactersAreStrayOperatorTokensAndTheStatementIsStillRead(string control)
    {
        var sql = $"SELECT id FROM t WHERE a = $1 AND b = {control}$2{control}";

        var tokens = SqlTokenizer.Tokenize(sql);
        var parsed = Parse(sql);

        Assert.NotNull(tokens);
        Assert.Equal(2, tokens.Count(t => t.Kind == SqlTokenKind.Operator && t.Value == control));
        Assert.Equal(new TableReference(null, "t", null), Assert.Single(parsed.Tables));
        // A value expression may hold anything but a column: the stray characters are part of b's value.
        Assert.Equal([new ColumnReference(null, "a", ColumnRole.Equality), new ColumnReference(null, "b", ColumnRole.Equality)], parsed.Columns);
        Assert.Equal(2, parsed.ParameterCount);
    }

    private static ParsedStatement Parse(string sql)
    {
        var result = QueryShapeParser.Parse(sql);
        Assert.True(result.Statement is not null, result.Rejected);
        return result.Statement!;
    }
}
