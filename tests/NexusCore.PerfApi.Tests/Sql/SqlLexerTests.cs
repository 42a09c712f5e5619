using NexusCore.PerfApi.Sql;

namespace NexusCore.PerfApi.Tests.Sql;

/// <summary>
/// The hostile corpus the three former lexers were tested with, run through the one lexer, and through the
/// normalization, match keys and advisor tokens built on it: each must read a text the same way.
/// </summary>
[NoStack]
public sealed class SqlLexerTests
{
    [Theory]
    [InlineData("a /* x /* nested */ still */ b", "Word:a Word:b")]
    [InlineData("a -- to the end of the line\nb", "Word:a Word:b")]
    [InlineData("a-- no space before\n-1", "Word:a Operator:- Number:1")]
    [InlineData("'it''s' E'it\\'s \\\\' e'\\n'", "String:'it''s' String:E'it\\'s \\\\' String:e'\\n'")]
    [InlineData("B'101' X'1F' N'n' U&'d\\0061t' u&'x'", "String:B'101' String:X'1F' String:N'n' String:U&'d\\0061t' String:u&'x'")]
    [InlineData("$fn$ it's $$ -- $1 $fn$ $$x$$", "String:$fn$ it's $$ -- $1 $fn$ String:$$x$$")]
    [InlineData("$a$ $b$ $a$ $_1$x$_1$", "String:$a$ $b$ $a$ String:$_1$x$_1$")]
    [InlineData("\"a\"\"b\" U&\"d\\0061t\" \"Weird 7\"", "QuotedIdentifier:\"a\"\"b\" QuotedIdentifier:U&\"d\\0061t\" QuotedIdentifier:\"Weird 7\"")]
    [InlineData("1e-5 .5 0x1F 0o17 0b101 1_000 1.5E+3 42", "Number:1e-5 Number:.5 Number:0x1F Number:0o17 Number:0b101 Number:1_000 Number:1.5E+3 Number:42")]
    [InlineData("0xZ 1e 1..2", "Number:0 Word:xZ Number:1 Word:e Number:1 Dot:. Number:.2")]
    [InlineData("$1::int8[] $12", "Parameter:$1 Operator::: Word:int8 OpenBracket:[ CloseBracket:] Parameter:$12")]
    [InlineData("a=-1 b@-1 c<>$2 d||e f->>'k' g?|h", "Word:a Operator:= Operator:- Number:1 Word:b Operator:@- Number:1 Word:c Operator:<> Parameter:$2 Word:d Operator:|| Word:e Word:f Operator:->> String:'k' Word:g Placeholder:? Operator:| Word:h")]
    [InlineData("a$1 x.y; :n", "Word:a$1 Word:x Dot:. Word:y Semicolon:; Colon:: Word:n")]
    [InlineData("f(a, \\\u0001)", "Word:f OpenParen:( Word:a Comma:, Operator:\\ Operator:\u0001 CloseParen:)")]
    public void EachPieceOfTheCorpusIsOneTokenOfItsKind(string sql, string expected)
    {
        var tokens = new List<string>();
        var lexer = new SqlLexer(sql);
        while (lexer.Next(out var token))
        {
            tokens.Add($"{token.Kind}:{sql.Substring(token.Start, token.Length)}");
        }

        Assert.Equal(expected, string.Join(' ', tokens));
        Assert.False(lexer.Unterminated);
    }

    [Theory]
    [InlineData("SELECT 'open", SqlTokenKind.String)]
    [InlineData("SELECT E'open\\'", SqlTokenKind.String)]
    [InlineData("SELECT $x$ open", SqlTokenKind.String)]
    [InlineData("SELECT \"open", SqlTokenKind.QuotedIdentifier)]
    [InlineData("SELECT \"open\"\"", SqlTokenKind.QuotedIdentifier)]
    public void AStringOrIdentifierLeftOpenRunsToTheEndAndIsMarked(string sql, SqlTokenKind kind)
    {
        var lexer = new SqlLexer(sql);
        Assert.True(lexer.Next(out _));
        Assert.True(lexer.Next(out var open));

        Assert.Equal((kind, sql.Length, true), (open.Kind, open.End, open.Unterminated));
        Assert.False(lexer.Next(out _));
        Assert.True(lexer.Unterminated);
    }

    [Fact]
    public void ABlockCommentLeftOpenEndsTheTextAndIsMarked()
    {
        var lexer = new SqlLexer("SELECT 1 /* open /* nested */ still open");

        Assert.True(lexer.Next(out _));
        Assert.True(lexer.Next(out _));
        Assert.False(lexer.Next(out _));
        Assert.True(lexer.Unterminated);
    }

    [Fact]
    public void LexingAllocatesNothing()
    {
        const string sql = "SELECT \"a\"\"b\", E'it\\'s', $tag$ x $tag$, U&'x', 1e-5, .5, 0x1F, 1_000, $1::int /* c /* n */ */ FROM t -- end";
        var warmUp = new SqlLexer(sql);
        while (warmUp.Next(out _))
        {
        }

        var count = 0;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        for (var round = 0; round < 100; round++)
        {
            var lexer = new SqlLexer(sql);
            while (lexer.Next(out _))
            {
                count++;
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - allocated);
        Assert.Equal(100 * 22, count);
    }

    [Theory]
    [InlineData("SELECT a /* x /* nested */ y */ FROM t -- c", "SELECT a FROM t")]
    [InlineData("SELECT E'it\\'s', 'it''s', e'\\\\'", "SELECT ?, ?, ?")]
    [InlineData("SELECT $fn$ it's $$ $1 $fn$ AS body, $$x$$", "SELECT ? AS body, ?")]
    [InlineData("SELECT U&'d\\0061t', N'n', B'1', X'1F'", "SELECT ?, ?, ?, ?")]
    [InlineData("SELECT \"a\"\"b\", U&\"d\\0061t\" FROM \"T\"", "SELECT \"a\"\"b\", U&\"d\\0061t\" FROM \"T\"")]
    [InlineData("SELECT 1e-5, .5, 0x1F, 0o17, 0b101, 1_000, 1.5E+3", "SELECT ?, ?, ?, ?, ?, ?, ?")]
    [InlineData("SELECT a::int8 FROM t WHERE b=-1 AND c @> '{}'::jsonb AND d = $12", "SELECT a::int8 FROM t WHERE b=-? AND c @> ?::jsonb AND d = $12")]
    [InlineData("SELECT a FROM t WHERE b IN ( 1 , 'x' ,$1)", "SELECT a FROM t WHERE b IN ( ? , ? ,$1)")]
    [InlineData("SELECT a FROM t WHERE b IN ( 1 , 'x' , .5 )", "SELECT a FROM t WHERE b IN (?)")]
    [InlineData("INSERT INTO t (a) VALUES (1), (2), ('x')", "INSERT INTO t (a) VALUES (?)")]
    [InlineData("SELECT a FROM t WHERE (b, c) IN ((1, 2), (3, 4))", "SELECT a FROM t WHERE (b, c) IN ((?))")]
    [InlineData("SELECT f(1)", "SELECT f(?)")]
    [InlineData("SELECT 'open", "SELECT ?")]
    [InlineData("SELECT \"open", "SELECT \"open")]
    [InlineData("SELECT 1 /* open", "SELECT ?")]
    public void TheCorpusNormalizesAsPgStatStatementsWould(string sql, string expected) =>
        Assert.Equal(expected, SqlNormalizer.Normalize(sql, 2048));

    [Theory]
    [InlineData("SELECT U&'d\\0061t' FROM t", "SELECT $1 FROM t")]
    [InlineData("SELECT 1e-5, .5, 0x1F, 1_000 FROM t", "SELECT $1, $2, $3, $4 FROM t")]
    [InlineData("SELECT $fn$ it's $fn$, E'\\'' /* note */ FROM t", "SELECT $1, $2 FROM t")]
    [InlineData("SELECT \"a\"\"b\" FROM \"T\" WHERE x = -.5", "select \"a\"\"b\" from \"T\" where x = $1")]
    [InlineData("SELECT a::int8 FROM t WHERE b = ANY('{1,2}'::bigint[])", "SELECT a :: int8 FROM t WHERE b = ANY($1::bigint[])")]
    [InlineData("INSERT INTO t (a) VALUES (1), (2)", "INSERT INTO t (a) VALUES ($1), ($2)")]
    [InlineData("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')", "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)")]
    public void TheCorpusAsSentMatchesItsPgStatStatementsText(string sent, string stored)
    {
        var key = Assert.Single(StatementMatcher.Keys(SqlNormalizer.Normalize(sent, 2048)));

        Assert.Equal(StatementMatcher.Key(stored), key);
        Assert.True(StatementMatcher.Matches(key, StatementMatcher.Key(stored)));
    }

    [Theory]
    [InlineData("SELECT 0x1F FROM t", "SELECT 0 x1F FROM t")]
    [InlineData("SELECT \"A\" FROM t", "SELECT \"a\" FROM t")]
    [InlineData("SELECT a FROM t WHERE b = $1; SELECT 2", "SELECT a FROM t WHERE b = $1")]
    [InlineData("SELECT a ->> 'k' FROM t", "SELECT a -> 'k' FROM t")]
    public void TheCorpusKeepsDifferentStatementsApart(string a, string b) =>
        Assert.NotEqual(StatementMatcher.Key(a), StatementMatcher.Key(b));

    [Fact]
    public void TheAdvisorsTokensCarryTheLexersValues()
    {
        var tokens = SqlTokenizer.Tokenize("SELECT \"a\"\"B\", U&\"x\", Col FROM t WHERE n = 0x1F AND p = $12 AND s = E'\\'' AND d = $t$x$t$");

        Assert.NotNull(tokens);
        Assert.Equal(
            ["select", "a\"B", ",", "x", ",", "col", "from", "t", "where", "n", "=", "0x1F", "and", "p", "=", "12", "and", "s", "=", "E'\\''", "and", "d", "=", "$t$x$t$"],
            tokens.Select(t => t.Value));
        Assert.Equal(SqlTokenKind.QuotedIdentifier, tokens[3].Kind);
        Assert.Equal(SqlTokenKind.Number, tokens[11].Kind);
        Assert.Equal(SqlTokenKind.Parameter, tokens[15].Kind);
    }

    [Theory]
    [InlineData("SELECT 'open")]
    [InlineData("SELECT $x$ open")]
    [InlineData("SELECT \"open")]
    [InlineData("SELECT 1 /* open")]
    [InlineData("SELECT '\u0000'")]
    public void TheAdvisorRefusesWhatNormalizationReadsToTheEnd(string sql)
    {
        Assert.Null(SqlTokenizer.Tokenize(sql));
        Assert.StartsWith("SELECT", SqlNormalizer.Normalize(sql, 2048), StringComparison.Ordinal);
    }
}
