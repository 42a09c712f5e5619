using System.Text;
using System.Text.RegularExpressions;

namespace NexusCore.PerfApi.Sql;

/// <summary>
/// Matches the statements PerfApi saw in spans with <c>pg_stat_statements</c> rows. Both sides are reduced to
/// one key: comments dropped and literals replaced (<see cref="SqlNormalizer"/>), then every placeholder
/// (<c>?</c> and pg_stat_statements' <c>$n</c>) made the same, letter case folded outside quoted identifiers,
/// whitespace kept only between two words, a unary minus folded into its constant, lists of placeholders
/// collapsed and a trailing semicolon dropped. Two texts that differ only in these ways are the same statement.
/// Lists collapse because the store writes <c>IN (1, 2, 3)</c> as <c>IN (?)</c> where pg_stat_statements keeps
/// <c>IN ($1, $2, $3)</c>; the price is that <c>f($1)</c> and <c>f($1, $2)</c> share a key.
/// </summary>
public static partial class StatementMatcher
{
    private const int MaxLength = 1 << 20;

    /// <summary>The key of each statement of <paramref name="sql"/> (a batch sends several, separated by semicolons).</summary>
    public static IReadOnlyList<string> Keys(string sql) => Split(Key(sql));

    /// <summary>The match key of one SQL text.</summary>
    public static string Key(string sql)
    {
        var normalized = SqlNormalizer.Normalize(sql, MaxLength);
        var key = new StringBuilder(normalized.Length);
        var pendingSpace = false;
        for (var i = 0; i < normalized.Length; i++)
        {
            var c = normalized[i];
            if (c == '"')
            {
                var end = normalized.IndexOf('"', i + 1);
                end = end < 0 ? normalized.Length - 1 : end;
                AppendSpaceIfBetweenWords(key, ref pendingSpace, '"');
                key.Append(normalized, i, end - i + 1);
                i = end;
                continue;
            }

            if (char.IsWhiteSpace(c))
            {
                pendingSpace = key.Length > 0;
                continue;
            }

            if (c == '$' && i + 1 < normalized.Length && char.IsAsciiDigit(normalized[i + 1]) && (pendingSpace || !IsWord(Previous(key))))
            {
                while (i + 1 < normalized.Length && char.IsAsciiDigit(normalized[i + 1]))
                {
                    i++;
                }

                c = '?';
            }

            if (c == '?' && key.Length > 0 && key[^1] == '-' && IsUnaryPosition(key, key.Length - 1))
            {
                key.Length--;
            }

            AppendSpaceIfBetweenWords(key, ref pendingSpace, c);
            key.Append(char.ToLowerInvariant(c));
        }

        var text = key.ToString();
        if (text.Contains("?,", StringComparison.Ordinal))
        {
            text = PlaceholderList().Replace(text, "(?)");
            text = RowList().Replace(text, "(?)");
        }

        return text.TrimEnd(';');
    }

    /// <summary>
    /// Whether a pg_stat_statements key is a seen statement's key. A statement PerfApi cut at
    /// <c>Telemetry:MaxStatementLength</c> (it ends with an ellipsis) matches texts that start with it.
    /// </summary>
    public static bool Matches(string seenKey, string pgKey) =>
        seenKey.EndsWith('…') ? pgKey.StartsWith(seenKey[..^1], StringComparison.Ordinal) : seenKey == pgKey;

    private static IReadOnlyList<string> Split(string key)
    {
        var parts = new List<string>();
        var start = 0;
        var quoted = false;
        for (var i = 0; i < key.Length; i++)
        {
            if (key[i] == '"')
            {
                quoted = !quoted;
            }
            else if (key[i] == ';' && !quoted)
            {
                Add(key[start..i]);
                start = i + 1;
            }
        }

        Add(key[start..]);
        return parts;

        void Add(string part)
        {
            if (part.Length > 0)
            {
                parts.Add(part);
            }
        }
    }

    private static void AppendSpaceIfBetweenWords(StringBuilder key, ref bool pendingSpace, char next)
    {
        if (pendingSpace && IsWord(Previous(key)) && IsWord(next))
        {
            key.Append(' ');
        }

        pendingSpace = false;
    }

    /// <summary>A minus right before a constant is its sign when what precedes it cannot end an operand.</summary>
    private static bool IsUnaryPosition(StringBuilder key, int minus)
    {
        var before = minus > 0 ? key[minus - 1] : '\0';
        return before is '\0' or '(' or ',' or '=' or '<' or '>' or '+' or '-' or '*' or '/' or '%' or '^' or '[' or ' ';
    }

    private static char Previous(StringBuilder key) => key.Length > 0 ? key[^1] : '\0';

    private static bool IsWord(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '?' or '$' or '"' || c > 127;

    [GeneratedRegex(@"\(\?(?:,\?)+\)", RegexOptions.CultureInvariant)]
    private static partial Regex PlaceholderList();

    [GeneratedRegex(@"\(\?\)(?:,\(\?\))+", RegexOptions.CultureInvariant)]
    private static partial Regex RowList();
}
