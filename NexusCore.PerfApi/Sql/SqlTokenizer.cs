namespace NexusCore.PerfApi.Sql;

/// <summary>One token: its kind, its value (a word in lower case, an identifier unquoted) and where it is in the text.</summary>
public readonly record struct SqlToken(SqlTokenKind Kind, string Value, int Start, int Length)
{
    public bool IsWord(string word) => Kind == SqlTokenKind.Word && Value == word;

    public bool IsOperator(string op) => Kind == SqlTokenKind.Operator && Value == op;
}

/// <summary>
/// The index advisor's view of <see cref="SqlLexer"/>'s tokens, with their values: words folded to lower case
/// (as PostgreSQL does), quoted identifiers unquoted with doubled quotes undone, a parameter's number. Enough to
/// find tables, predicates and sort keys in the statements Npgsql, psql and pg_stat_statements show; not a parser.
/// A control character that is not white space is a stray operator token (PostgreSQL refuses it with a syntax
/// error); a NUL, or anything left open, makes the text not lex.
/// </summary>
public static class SqlTokenizer
{
    /// <summary>
    /// The tokens of <paramref name="sql"/>; null when the text does not lex (an unterminated string, identifier or
    /// comment, or a NUL character: PostgreSQL takes a statement as a NUL-terminated string, so no statement holds
    /// one, and sending one breaks the protocol message and with it the connection).
    /// </summary>
    public static IReadOnlyList<SqlToken>? Tokenize(string sql)
    {
        if (sql.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }

        var tokens = new List<SqlToken>();
        var lexer = new SqlLexer(sql);
        while (lexer.Next(out var token))
        {
            if (token.Unterminated)
            {
                return null;
            }

            tokens.Add(new SqlToken(token.Kind, Value(sql, token), token.Start, token.Length));
        }

        return lexer.Unterminated ? null : tokens;
    }

    private static string Value(string sql, SqlLexeme token)
    {
        var text = sql.AsSpan(token.Start, token.Length);
        switch (token.Kind)
        {
            case SqlTokenKind.Word:
                return text.ContainsAnyInRange('A', 'Z') || text.ContainsAnyExceptInRange('\0', '\u007f')
                    ? text.ToString().ToLowerInvariant()
                    : text.ToString();
            case SqlTokenKind.QuotedIdentifier:
                var name = text[(text.IndexOf('"') + 1)..^1];
                return name.Contains('"') ? name.ToString().Replace("\"\"", "\"", StringComparison.Ordinal) : name.ToString();
            case SqlTokenKind.Parameter:
                return text[1..].ToString();
            case SqlTokenKind.OpenParen or SqlTokenKind.CloseParen or SqlTokenKind.OpenBracket or SqlTokenKind.CloseBracket
                or SqlTokenKind.Comma or SqlTokenKind.Dot or SqlTokenKind.Semicolon or SqlTokenKind.Colon or SqlTokenKind.Placeholder:
                // One character each: the same few strings every time.
                return Punctuation[text[0] - '('];
            default:
                return text.ToString();
        }
    }

    /// <summary>The strings of the punctuation characters, indexed from <c>(</c> (they all lie between <c>(</c> and <c>]</c>).</summary>
    private static readonly string[] Punctuation = Enumerable.Range('(', ']' - '(' + 1).Select(c => ((char)c).ToString()).ToArray();
}
