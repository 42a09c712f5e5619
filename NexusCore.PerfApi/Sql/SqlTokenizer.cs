using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Store;
namespace NexusCore.PerfApi.Sql;

public enum SqlTokenKind
{
    /// <summary>An unquoted word (folded to lower case, as PostgreSQL does): a keyword, a name or a type.</summary>
    Word,

    /// <summary>A double-quoted identifier, unescaped, case kept.</summary>
    QuotedIdentifier,

    /// <summary>A string constant of any kind: '…', E'…', B'…', X'…', U&amp;'…', $tag$…$tag$.</summary>
    String,

    Number,

    /// <summary>A positional parameter <c>$n</c>.</summary>
    Parameter,

    /// <summary>A <c>?</c>: a literal PerfApi's store replaced (its statements are normalized).</summary>
    Placeholder,

    /// <summary>An operator: <c>=</c>, <c>&lt;=</c>, <c>||</c>, <c>::</c>…</summary>
    Operator,

    OpenParen,
    CloseParen,
    OpenBracket,
    CloseBracket,
    Comma,
    Dot,
    Semicolon,
    Colon,
}

/// <summary>One token: its kind, its value (a word in lower case, an identifier unquoted) and where it is in the text.</summary>
public readonly record struct SqlToken(SqlTokenKind Kind, string Value, int Start, int Length)
{
    public bool IsWord(string word) => Kind == SqlTokenKind.Word && Value == word;

    public bool IsOperator(string op) => Kind == SqlTokenKind.Operator && Value == op;
}

/// <summary>
/// Splits PostgreSQL SQL into tokens following its lexical rules: comments (nested block comments too) dropped,
/// strings in every quoting (standard, E'…' with backslash escapes, dollar quoting), quoted identifiers with
/// doubled quotes, <c>$n</c> parameters, numbers and operators. Enough to find tables, predicates and sort keys
/// in the statements Npgsql, psql and pg_stat_statements show; not a parser. A control character that is not white
/// space is kept as a stray operator token (PostgreSQL refuses it with a syntax error); a NUL makes the text not lex.
/// </summary>
public static class SqlTokenizer
{
    private const string OperatorChars = "+-*/<>=~!@#%^&|`";

    /// <summary>
    /// The tokens of <paramref name="sql"/>; null when the text does not lex (an unterminated string or comment, or
    /// a NUL character: PostgreSQL takes a statement as a NUL-terminated string, so no statement holds one, and
    /// sending one breaks the protocol message and with it the connection).
    /// </summary>
    public static IReadOnlyList<SqlToken>? Tokenize(string sql)
    {
        if (sql.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }

        var tokens = new List<SqlToken>();
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            var start = i;
            if (c == '-' && At(sql, i + 1) == '-')
            {
                while (i < sql.Length && sql[i] != '\n')
                {
                    i++;
                }

                continue;
            }

            if (c == '/' && At(sql, i + 1) == '*')
            {
                if (SkipBlockComment(sql, i) is not { } end)
                {
                    return null;
                }

                i = end;
                continue;
            }

            if (c == '\'' || (IsStringPrefix(sql, i) is { } prefixLength && At(sql, i + prefixLength) == '\''))
            {
                var prefix = c == '\'' ? 0 : IsStringPrefix(sql, i)!.Value;
                var backslashes = prefix == 1 && (c is 'e' or 'E');
                if (SkipString(sql, i + prefix, backslashes) is not { } end)
                {
                    return null;
                }

                tokens.Add(new(SqlTokenKind.String, sql[start..end], start, end - start));
                i = end;
                continue;
            }

            if (c == '"' || ((c is 'u' or 'U') && At(sql, i + 1) == '&' && At(sql, i + 2) == '"'))
            {
                var open = c == '"' ? i : i + 2;
                if (SkipQuotedIdentifier(sql, open) is not { } end)
                {
                    return null;
                }

                tokens.Add(new(SqlTokenKind.QuotedIdentifier, sql[(open + 1)..(end - 1)].Replace("\"\"", "\"", StringComparison.Ordinal), start, end - start));
                i = end;
                continue;
            }

            if (c == '$')
            {
                if (char.IsAsciiDigit(At(sql, i + 1)))
                {
                    i++;
                    while (i < sql.Length && char.IsAsciiDigit(sql[i]))
                    {
                        i++;
                    }

                    tokens.Add(new(SqlTokenKind.Parameter, sql[(start + 1)..i], start, i - start));
                    continue;
                }

                if (DollarTag(sql, i) is { } tag)
                {
                    var close = sql.IndexOf(tag, i + tag.Length, StringComparison.Ordinal);
                    if (close < 0)
                    {
                        return null;
                    }

                    i = close + tag.Length;
                    tokens.Add(new(SqlTokenKind.String, sql[start..i], start, i - start));
                    continue;
                }
            }

            if (char.IsAsciiDigit(c) || (c == '.' && char.IsAsciiDigit(At(sql, i + 1))))
            {
                i = SkipNumber(sql, i);
                tokens.Add(new(SqlTokenKind.Number, sql[start..i], start, i - start));
                continue;
            }

            if (IsIdentifierStart(c))
            {
                while (i < sql.Length && IsIdentifierPart(sql[i]))
                {
                    i++;
                }

                tokens.Add(new(SqlTokenKind.Word, sql[start..i].ToLowerInvariant(), start, i - start));
                continue;
            }

            switch (c)
            {
                case '(':
                    tokens.Add(new(SqlTokenKind.OpenParen, "(", start, 1));
                    i++;
                    continue;
                case ')':
                    tokens.Add(new(SqlTokenKind.CloseParen, ")", start, 1));
                    i++;
                    continue;
                case '[':
                    tokens.Add(new(SqlTokenKind.OpenBracket, "[", start, 1));
                    i++;
                    continue;
                case ']':
                    tokens.Add(new(SqlTokenKind.CloseBracket, "]", start, 1));
                    i++;
                    continue;
                case ',':
                    tokens.Add(new(SqlTokenKind.Comma, ",", start, 1));
                    i++;
                    continue;
                case ';':
                    tokens.Add(new(SqlTokenKind.Semicolon, ";", start, 1));
                    i++;
                    continue;
                case '.':
                    tokens.Add(new(SqlTokenKind.Dot, ".", start, 1));
                    i++;
                    continue;
                case '?':
                    tokens.Add(new(SqlTokenKind.Placeholder, "?", start, 1));
                    i++;
                    continue;
                case ':':
                    if (At(sql, i + 1) == ':')
                    {
                        tokens.Add(new(SqlTokenKind.Operator, "::", start, 2));
                        i += 2;
                    }
                    else
                    {
                        tokens.Add(new(SqlTokenKind.Colon, ":", start, 1));
                        i++;
                    }

                    continue;
            }

            if (OperatorChars.Contains(c, StringComparison.Ordinal))
            {
                i = SkipOperator(sql, i);
                tokens.Add(new(SqlTokenKind.Operator, sql[start..i], start, i - start));
                continue;
            }

            // Anything else (a stray backslash, a non-SQL character) is kept as an operator: it makes the
            // comparison around it unreadable, which is the safe outcome.
            tokens.Add(new(SqlTokenKind.Operator, c.ToString(), start, 1));
            i++;
        }

        return tokens;
    }

    /// <summary>The character at <paramref name="i"/>, or NUL past the end (unambiguous: a text with a NUL does not lex).</summary>
    private static char At(string sql, int i) => i < sql.Length ? sql[i] : '\0';

    private static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c == '_' || c > 127;

    private static bool IsIdentifierPart(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '$' || c > 127;

    /// <summary>The length of a string prefix (E, B, X, N, U&amp;) at <paramref name="i"/>, when the word is one.</summary>
    private static int? IsStringPrefix(string sql, int i)
    {
        if (i > 0 && IsIdentifierPart(sql[i - 1]))
        {
            return null;
        }

        var c = char.ToUpperInvariant(sql[i]);
        if (c is 'E' or 'B' or 'X' or 'N')
        {
            return 1;
        }

        return c == 'U' && At(sql, i + 1) == '&' ? 2 : null;
    }

    private static int? SkipString(string sql, int open, bool backslashEscapes)
    {
        var i = open + 1;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (backslashEscapes && c == '\\')
            {
                i += 2;
                continue;
            }

            if (c == '\'')
            {
                if (At(sql, i + 1) == '\'')
                {
                    i += 2;
                    continue;
                }

                return i + 1;
            }

            i++;
        }

        return null;
    }

    private static int? SkipQuotedIdentifier(string sql, int open)
    {
        var i = open + 1;
        while (i < sql.Length)
        {
            if (sql[i] == '"')
            {
                if (At(sql, i + 1) == '"')
                {
                    i += 2;
                    continue;
                }

                return i + 1;
            }

            i++;
        }

        return null;
    }

    private static int? SkipBlockComment(string sql, int open)
    {
        var depth = 0;
        var i = open;
        while (i < sql.Length)
        {
            if (sql[i] == '/' && At(sql, i + 1) == '*')
            {
                depth++;
                i += 2;
            }
            else if (sql[i] == '*' && At(sql, i + 1) == '/')
            {
                depth--;
                i += 2;
                if (depth == 0)
                {
                    return i;
                }
            }
            else
            {
                i++;
            }
        }

        return null;
    }

    /// <summary><c>$$</c> or <c>$tag$</c> opening a dollar-quoted string at <paramref name="i"/>, or null.</summary>
    private static string? DollarTag(string sql, int i)
    {
        if (i > 0 && IsIdentifierPart(sql[i - 1]))
        {
            return null;
        }

        var j = i + 1;
        if (j < sql.Length && (char.IsAsciiLetter(sql[j]) || sql[j] == '_' || sql[j] > 127))
        {
            while (j < sql.Length && (char.IsAsciiLetterOrDigit(sql[j]) || sql[j] == '_' || sql[j] > 127))
            {
                j++;
            }
        }

        return At(sql, j) == '$' ? sql[i..(j + 1)] : null;
    }

    private static int SkipNumber(string sql, int i)
    {
        while (i < sql.Length && (char.IsAsciiDigit(sql[i]) || sql[i] is '.' or '_'))
        {
            // "1..2" is not a number followed by a range: PostgreSQL has no such syntax; stop before a second dot.
            if (sql[i] == '.' && At(sql, i + 1) == '.')
            {
                break;
            }

            i++;
        }

        if (At(sql, i) is 'e' or 'E' && (char.IsAsciiDigit(At(sql, i + 1)) || (At(sql, i + 1) is '+' or '-' && char.IsAsciiDigit(At(sql, i + 2)))))
        {
            i += 2;
            while (i < sql.Length && char.IsAsciiDigit(sql[i]))
            {
                i++;
            }
        }

        return i;
    }

    /// <summary>
    /// PostgreSQL's operator rule: the longest run of operator characters, cut before a comment start, and a
    /// multi-character operator ends in + or - only when it holds one of ~ ! @ # % ^ &amp; | ` (so <c>=-1</c> is = and -1).
    /// </summary>
    private static int SkipOperator(string sql, int start)
    {
        var end = start;
        while (end < sql.Length && OperatorChars.Contains(sql[end], StringComparison.Ordinal))
        {
            if (end > start && ((sql[end] == '-' && At(sql, end + 1) == '-') || (sql[end] == '/' && At(sql, end + 1) == '*')))
            {
                break;
            }

            end++;
        }

        if (end - start > 1 && sql.AsSpan(start, end - start).IndexOfAny("~!@#%^&|`") < 0)
        {
            while (end - start > 1 && sql[end - 1] is '+' or '-')
            {
                end--;
            }
        }

        return end;
    }
}
