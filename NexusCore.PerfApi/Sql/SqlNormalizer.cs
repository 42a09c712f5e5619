using System.Text;
using System.Text.RegularExpressions;

namespace NexusCore.PerfApi.Sql;

/// <summary>A SQL text reduced to its shape: literals replaced, plus the verb and main table it names.</summary>
/// <param name="Statement">Whitespace collapsed, comments removed, literals replaced by <c>?</c>.</param>
/// <param name="Verb">The statement's verb in upper case (<c>SELECT</c>, <c>INSERT</c>…), or null.</param>
/// <param name="Table">The main table (<c>FROM</c>, <c>INTO</c>, <c>UPDATE</c> target) without quotes, or null.</param>
public sealed record SqlShape(string Statement, string? Verb, string? Table);

/// <summary>
/// Normalizes SQL text so that executions differing only in literal values group together, as
/// pg_stat_statements does: comments dropped, whitespace collapsed, string, dollar-quoted and numeric
/// literals replaced by <c>?</c>, lists of literals (<c>IN (1, 2, 3)</c>) collapsed to <c>(?)</c>.
/// Positional parameters (<c>$1</c>, which Npgsql sends) and quoted identifiers are kept.
/// </summary>
public static partial class SqlNormalizer
{
    private static readonly string[] Verbs = ["SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "CALL", "VALUES", "TRUNCATE"];

    public static SqlShape Shape(string sql, int maxLength)
    {
        var statement = Normalize(sql, maxLength);
        var (verb, table) = VerbAndTable(statement);
        return new SqlShape(statement, verb, table);
    }

    public static string Normalize(string sql, int maxLength)
    {
        var output = new StringBuilder(Math.Min(sql.Length, maxLength + 1));
        var pendingSpace = false;
        var i = 0;
        while (i < sql.Length && output.Length <= maxLength)
        {
            var c = sql[i];
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = output.Length > 0;
                i++;
                continue;
            }

            if (c == '-' && Next(sql, i) == '-')
            {
                i = SkipLineComment(sql, i);
                pendingSpace = output.Length > 0;
                continue;
            }

            if (c == '/' && Next(sql, i) == '*')
            {
                i = SkipBlockComment(sql, i);
                pendingSpace = output.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                output.Append(' ');
                pendingSpace = false;
            }

            if (c == '\'')
            {
                // E'…' strings take backslash escapes; E, B, X and N prefixes belong to the literal.
                var backslashEscapes = DropLiteralPrefix(output, sql, i);
                i = SkipQuoted(sql, i, '\'', backslashEscapes);
                output.Append('?');
            }
            else if (c == '"')
            {
                var end = SkipQuoted(sql, i, '"', backslashEscapes: false);
                output.Append(sql, i, end - i);
                i = end;
            }
            else if (c == '$' && !IsIdentifierPart(Previous(sql, i)))
            {
                i = DollarToken(sql, i, output);
            }
            else if ((char.IsAsciiDigit(c) || (c == '.' && char.IsAsciiDigit(Next(sql, i)))) && !IsIdentifierPart(Previous(sql, i)))
            {
                i = SkipNumber(sql, i);
                output.Append('?');
            }
            else
            {
                output.Append(c);
                i++;
            }
        }

        var text = output.ToString();
        if (text.Contains("?,", StringComparison.Ordinal) || text.Contains("? ,", StringComparison.Ordinal))
        {
            text = LiteralList().Replace(text, "(?)");
            text = RowList().Replace(text, "(?)");
        }

        return text.Length > maxLength ? string.Concat(text.AsSpan(0, maxLength), "…") : text;
    }

    private static (string? Verb, string? Table) VerbAndTable(string statement)
    {
        string? verb = null;
        string? first = null;
        var depth = 0;
        var i = 0;
        while (i < statement.Length)
        {
            var c = statement[i];
            if (c == '(')
            {
                depth++;
                i++;
            }
            else if (c == ')')
            {
                depth = Math.Max(0, depth - 1);
                i++;
            }
            else if (char.IsAsciiLetter(c) || c == '_')
            {
                var start = i;
                while (i < statement.Length && IsIdentifierPart(statement[i]))
                {
                    i++;
                }

                if (depth > 0)
                {
                    continue;
                }

                var word = statement.AsSpan(start, i - start);
                first ??= word.ToString().ToUpperInvariant();
                if (verb is null)
                {
                    foreach (var candidate in Verbs)
                    {
                        if (word.Equals(candidate, StringComparison.OrdinalIgnoreCase))
                        {
                            verb = candidate;
                            break;
                        }
                    }

                    if (verb is "UPDATE" or "COPY" or "TRUNCATE")
                    {
                        return (verb, TableAt(statement, i, skipWord: verb == "TRUNCATE" ? "TABLE" : "ONLY"));
                    }
                }
                else if ((verb is "SELECT" or "DELETE" && word.Equals("FROM", StringComparison.OrdinalIgnoreCase))
                    || (verb is "INSERT" or "MERGE" && word.Equals("INTO", StringComparison.OrdinalIgnoreCase)))
                {
                    return (verb, TableAt(statement, i, skipWord: "ONLY"));
                }
            }
            else if (c == '"')
            {
                i = SkipQuoted(statement, i, '"', backslashEscapes: false);
            }
            else
            {
                i++;
            }
        }

        return (verb ?? first, null);
    }

    /// <summary>The (possibly schema-qualified, possibly quoted) name starting after position <paramref name="i"/>.</summary>
    private static string? TableAt(string statement, int i, string? skipWord)
    {
        while (true)
        {
            while (i < statement.Length && statement[i] == ' ')
            {
                i++;
            }

            var name = new StringBuilder();
            while (i < statement.Length)
            {
                var c = statement[i];
                if (c == '"')
                {
                    var end = SkipQuoted(statement, i, '"', backslashEscapes: false);
                    name.Append(statement, i + 1, Math.Max(0, end - i - 2));
                    i = end;
                }
                else if (IsIdentifierPart(c) || c == '.')
                {
                    name.Append(c);
                    i++;
                }
                else
                {
                    break;
                }
            }

            if (name.Length == 0)
            {
                // A subquery or a literal, not a table.
                return null;
            }

            var text = name.ToString();
            if (skipWord is not null && text.Equals(skipWord, StringComparison.OrdinalIgnoreCase))
            {
                skipWord = null;
                continue;
            }

            return text;
        }
    }

    private static bool DropLiteralPrefix(StringBuilder output, string sql, int quote)
    {
        if (quote == 0 || !(sql[quote - 1] is 'E' or 'e' or 'B' or 'b' or 'X' or 'x' or 'N' or 'n')
            || IsIdentifierPart(Previous(sql, quote - 1)))
        {
            return false;
        }

        output.Length--;
        return sql[quote - 1] is 'E' or 'e';
    }

    private static int SkipQuoted(string sql, int start, char quote, bool backslashEscapes)
    {
        var i = start + 1;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (backslashEscapes && c == '\\')
            {
                i += 2;
            }
            else if (c == quote)
            {
                if (Next(sql, i) == quote)
                {
                    i += 2;
                }
                else
                {
                    return i + 1;
                }
            }
            else
            {
                i++;
            }
        }

        return sql.Length;
    }

    /// <summary>A <c>$n</c> parameter is kept; a <c>$tag$…$tag$</c> string becomes <c>?</c>.</summary>
    private static int DollarToken(string sql, int start, StringBuilder output)
    {
        var i = start + 1;
        if (i < sql.Length && char.IsAsciiDigit(sql[i]))
        {
            while (i < sql.Length && char.IsAsciiDigit(sql[i]))
            {
                i++;
            }

            output.Append(sql, start, i - start);
            return i;
        }

        while (i < sql.Length && (char.IsAsciiLetterOrDigit(sql[i]) || sql[i] == '_'))
        {
            i++;
        }

        if (i >= sql.Length || sql[i] != '$')
        {
            output.Append('$');
            return start + 1;
        }

        var tag = sql.AsSpan(start, i - start + 1);
        var close = sql.AsSpan(i + 1).IndexOf(tag, StringComparison.Ordinal);
        output.Append('?');
        return close < 0 ? sql.Length : i + 1 + close + tag.Length;
    }

    private static int SkipNumber(string sql, int i)
    {
        if (sql[i] == '0' && Next(sql, i) is 'x' or 'X' or 'b' or 'B' or 'o' or 'O')
        {
            i += 2;
            while (i < sql.Length && (char.IsAsciiHexDigit(sql[i]) || sql[i] == '_'))
            {
                i++;
            }

            return i;
        }

        while (i < sql.Length && (char.IsAsciiDigit(sql[i]) || sql[i] is '.' or '_'))
        {
            i++;
        }

        if (i < sql.Length && sql[i] is 'e' or 'E')
        {
            var exponent = i + 1;
            if (exponent < sql.Length && sql[exponent] is '+' or '-')
            {
                exponent++;
            }

            if (exponent < sql.Length && char.IsAsciiDigit(sql[exponent]))
            {
                i = exponent;
                while (i < sql.Length && char.IsAsciiDigit(sql[i]))
                {
                    i++;
                }
            }
        }

        return i;
    }

    private static int SkipLineComment(string sql, int i)
    {
        var end = sql.IndexOf('\n', i);
        return end < 0 ? sql.Length : end + 1;
    }

    private static int SkipBlockComment(string sql, int i)
    {
        // PostgreSQL block comments nest.
        var depth = 0;
        while (i < sql.Length)
        {
            if (sql[i] == '/' && Next(sql, i) == '*')
            {
                depth++;
                i += 2;
            }
            else if (sql[i] == '*' && Next(sql, i) == '/')
            {
                i += 2;
                if (--depth == 0)
                {
                    return i;
                }
            }
            else
            {
                i++;
            }
        }

        return sql.Length;
    }

    private static bool IsIdentifierPart(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '$' || c > 127;

    private static char Next(string s, int i) => i + 1 < s.Length ? s[i + 1] : '\0';

    private static char Previous(string s, int i) => i > 0 ? s[i - 1] : '\0';

    [GeneratedRegex(@"\(\s*\?(?:\s*,\s*\?)+\s*\)", RegexOptions.CultureInvariant)]
    private static partial Regex LiteralList();

    [GeneratedRegex(@"\(\?\)(?:\s*,\s*\(\?\))+", RegexOptions.CultureInvariant)]
    private static partial Regex RowList();
}
