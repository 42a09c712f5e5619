using System.Buffers;

namespace NexusCore.PerfApi.Sql;

/// <summary>
/// Matches the statements PerfApi saw in spans with <c>pg_stat_statements</c> rows. Both sides are reduced, token
/// by token (<see cref="SqlLexer"/>), to one key: comments dropped, every constant, <c>?</c> and <c>$n</c> made
/// the same placeholder, letter case folded outside quoted identifiers, whitespace kept only between two words, a
/// unary minus folded into its constant, lists of placeholders collapsed and a trailing semicolon dropped. Two
/// texts that differ only in these ways are the same statement. Lists collapse because the store writes
/// <c>IN (1, 2, 3)</c> as <c>IN (?)</c> where pg_stat_statements keeps <c>IN ($1, $2, $3)</c>; the price is that
/// <c>f($1)</c> and <c>f($1, $2)</c> share a key.
/// </summary>
public static class StatementMatcher
{
    private const int MaxLength = 1 << 20;

    /// <summary>The key of each statement of <paramref name="sql"/> (a batch sends several, separated by semicolons).</summary>
    public static IReadOnlyList<string> Keys(string sql)
    {
        var semicolons = new List<int>();
        var key = Key(sql, semicolons);
        var parts = new List<string>(semicolons.Count + 1);
        var start = 0;
        foreach (var semicolon in semicolons)
        {
            if (semicolon >= key.Length)
            {
                break;
            }

            if (semicolon > start)
            {
                parts.Add(key[start..semicolon]);
            }

            start = semicolon + 1;
        }

        if (key.Length > start)
        {
            parts.Add(key[start..]);
        }

        return parts;
    }

    /// <summary>The match key of one SQL text.</summary>
    public static string Key(string sql) => Key(sql, semicolons: null);

    /// <summary>
    /// Whether a pg_stat_statements key is a seen statement's key. A statement PerfApi cut at
    /// <c>Telemetry:MaxStatementLength</c> (it ends with an ellipsis) matches texts that start with it.
    /// </summary>
    public static bool Matches(string seenKey, string pgKey) =>
        seenKey.EndsWith('…') ? pgKey.StartsWith(seenKey[..^1], StringComparison.Ordinal) : seenKey == pgKey;

    /// <summary>The key, and where the semicolons between its statements are in it.</summary>
    private static string Key(string sql, List<int>? semicolons)
    {
        // No try/finally: an array not returned after an exception is only collected.
        var capacity = Math.Min(sql.Length, MaxLength + 1);
        if (capacity <= SqlNormalizer.StackChars)
        {
            return Write(sql, new SqlTextBuffer(stackalloc char[capacity]), semicolons);
        }

        var rented = ArrayPool<char>.Shared.Rent(capacity);
        var key = Write(sql, new SqlTextBuffer(rented), semicolons);
        ArrayPool<char>.Shared.Return(rented);
        return key;
    }

    private static string Write(string sql, SqlTextBuffer key, List<int>? semicolons)
    {
        var lexer = new SqlLexer(sql);
        while (key.Length <= MaxLength && lexer.Next(out var token))
        {
            var text = sql.AsSpan(token.Start, token.Length);
            switch (token.Kind)
            {
                case SqlTokenKind.String or SqlTokenKind.Number or SqlTokenKind.Placeholder or SqlTokenKind.Parameter:
                    if (key.Last == '-' && IsUnaryPosition(ref key))
                    {
                        key.RemoveLast();
                    }

                    SpaceIfBetweenWords(ref key, token, '?');
                    key.Append('?');
                    break;
                case SqlTokenKind.QuotedIdentifier:
                    // U&"…": the prefix folds like a word, the quoted name stays as written.
                    var quote = text.IndexOf('"');
                    SpaceIfBetweenWords(ref key, token, char.ToLowerInvariant(text[0]));
                    key.AppendLower(text[..quote]);
                    key.Append(text[quote..]);
                    break;
                case SqlTokenKind.CloseParen:
                    key.Append(')');
                    key.CollapseLiteralList();
                    break;
                case SqlTokenKind.Semicolon:
                    key.Append(';');
                    semicolons?.Add(key.Length - 1);
                    break;
                default:
                    SpaceIfBetweenWords(ref key, token, char.ToLowerInvariant(text[0]));
                    key.AppendLower(text);
                    break;
            }
        }

        var written = key.Length > MaxLength ? key.Written[..MaxLength] : key.Written.TrimEnd(';');
        return key.Length > MaxLength ? string.Concat(written, "…") : new string(written);
    }

    private static void SpaceIfBetweenWords(ref SqlTextBuffer key, SqlLexeme token, char next)
    {
        if (token.SpaceBefore && IsWord(key.Last) && IsWord(next))
        {
            key.Append(' ');
        }
    }

    /// <summary>A minus right before a constant is its sign when what precedes it cannot end an operand.</summary>
    private static bool IsUnaryPosition(ref SqlTextBuffer key)
    {
        var before = key.Length > 1 ? key[key.Length - 2] : '\0';
        return before is '\0' or '(' or ',' or '=' or '<' or '>' or '+' or '-' or '*' or '/' or '%' or '^' or '[' or ' ';
    }

    /// <summary>Characters that may end or start a word of the key: a space between two of them is kept.</summary>
    private static bool IsWord(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '?' or '$' or '"' || c > 127;
}
