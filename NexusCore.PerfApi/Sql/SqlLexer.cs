using System.Buffers;
using System.Runtime.CompilerServices;

namespace NexusCore.PerfApi.Sql;

public enum SqlTokenKind
{
    /// <summary>An unquoted word: a keyword, a name or a type.</summary>
    Word,

    /// <summary>A double-quoted identifier (<c>"…"</c> or <c>U&amp;"…"</c>).</summary>
    QuotedIdentifier,

    /// <summary>A string constant of any kind: '…', E'…', B'…', X'…', N'…', U&amp;'…', $tag$…$tag$.</summary>
    String,

    /// <summary>A numeric constant: <c>42</c>, <c>1_000</c>, <c>.5</c>, <c>1e-5</c>, <c>0x1F</c>, <c>0o17</c>, <c>0b101</c>.</summary>
    Number,

    /// <summary>A positional parameter <c>$n</c>.</summary>
    Parameter,

    /// <summary>A <c>?</c>: a literal PerfApi's store replaced (its statements are normalized).</summary>
    Placeholder,

    /// <summary>An operator: <c>=</c>, <c>&lt;=</c>, <c>||</c>, <c>::</c>…, or a character SQL has no use for.</summary>
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

/// <summary>One token of a SQL text: its kind and where it is (the text stays the caller's).</summary>
/// <param name="SpaceBefore">White space or a comment separates it from the token before (or from the start).</param>
/// <param name="Unterminated">A string, quoted identifier or dollar quote that the text ends inside of.</param>
public readonly record struct SqlLexeme(SqlTokenKind Kind, int Start, int Length, bool SpaceBefore, bool Unterminated)
{
    public int End => Start + Length;
}

/// <summary>
/// The one SQL lexer of PerfApi: splits a text into tokens by PostgreSQL's lexical rules, without allocating.
/// Comments (nested block comments too) are skipped; strings in every quoting (standard with doubled quotes,
/// <c>E'…'</c> with backslash escapes, <c>B</c>, <c>X</c>, <c>N</c> and <c>U&amp;</c> prefixes, dollar quoting with
/// tags), quoted identifiers with doubled quotes, <c>$n</c> parameters, numbers (with <c>_</c>, exponents, and
/// <c>0x</c>/<c>0o</c>/<c>0b</c> integers) and operators (PostgreSQL's rule for a trailing <c>+</c> or <c>-</c>) are
/// one token each. A string, identifier or comment left open runs to the end of the text, and the lexer says so
/// (<see cref="Unterminated"/>): normalization keeps going, the index advisor refuses the text. Any other
/// character (a stray backslash, a control character, a NUL) is a one-character <see cref="SqlTokenKind.Operator"/>.
/// Normalization (<see cref="SqlNormalizer"/>), matching (<see cref="StatementMatcher"/>) and the advisor's
/// tokens (<see cref="SqlTokenizer"/>) all read SQL through this type.
/// </summary>
public ref struct SqlLexer(ReadOnlySpan<char> sql)
{
    private static readonly SearchValues<char> AsciiIdentifierParts =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$");

    private static readonly SearchValues<char> OperatorChars = SearchValues.Create("+-*/<>=~!@#%^&|`");

    /// <summary>With one of these, a multi-character operator may end in <c>+</c> or <c>-</c>.</summary>
    private static readonly SearchValues<char> OperatorSpecials = SearchValues.Create("~!@#%^&|`");

    private readonly ReadOnlySpan<char> _sql = sql;
    private int _position;

    /// <summary>Whether the token being read ran to the end of the text unclosed.</summary>
    private bool _unterminated;

    /// <summary>Whether a string, quoted identifier, dollar quote or block comment was left open at the end.</summary>
    public bool Unterminated { get; private set; }

    public bool Next(out SqlLexeme token)
    {
        var sql = _sql;
        var i = _position;
        var space = false;
        while (i < sql.Length)
        {
            var skipped = sql[i];
            if (skipped == ' ' || char.IsWhiteSpace(skipped))
            {
                i++;
            }
            else if (skipped == '-' && At(i + 1) == '-')
            {
                var newline = sql[i..].IndexOf('\n');
                i = newline < 0 ? sql.Length : i + newline;
            }
            else if (skipped == '/' && At(i + 1) == '*')
            {
                i = SkipBlockComment(i);
            }
            else
            {
                break;
            }

            space = true;
        }

        if (i >= sql.Length)
        {
            _position = sql.Length;
            token = default;
            return false;
        }

        var start = i;
        var c = sql[i];
        SqlTokenKind kind;
        _unterminated = false;
        if (char.IsAsciiLetter(c) && !(c is 'E' or 'e' or 'B' or 'b' or 'X' or 'x' or 'N' or 'n' or 'U' or 'u'))
        {
            // Most tokens are words or punctuation: those are read here. The letters that may prefix a string or
            // an identifier, and everything else, are read by Scan.
            i = SkipWord(sql, i + 1);
            kind = SqlTokenKind.Word;
        }
        else if (c is '(' or ')' or ',')
        {
            i++;
            kind = c switch { '(' => SqlTokenKind.OpenParen, ')' => SqlTokenKind.CloseParen, _ => SqlTokenKind.Comma };
        }
        else
        {
            kind = Scan(ref i);
            Unterminated |= _unterminated;
        }

        _position = i;
        token = new SqlLexeme(kind, start, i - start, space, _unterminated);
        return true;
    }

    /// <summary>Whether <paramref name="c"/> may continue an unquoted word (<c>$</c> may: <c>a$1</c> is one name).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsIdentifierPart(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '$' || c > 127;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c == '_' || c > 127;

    /// <summary>The character at <paramref name="i"/>, or NUL past the end (a NUL in the text is a stray token, never looked for).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly char At(int i) => i < _sql.Length ? _sql[i] : '\0';

    private SqlTokenKind Scan(ref int i)
    {
        var sql = _sql;
        var c = sql[i];
        if (c == '\'')
        {
            i = SkipString(i, backslashEscapes: false);
            return SqlTokenKind.String;
        }

        if (StringPrefixLength(i) is var prefix and > 0 && At(i + prefix) == '\'')
        {
            i = SkipString(i + prefix, backslashEscapes: c is 'e' or 'E');
            return SqlTokenKind.String;
        }

        if (c == '"' || (c is 'u' or 'U' && At(i + 1) == '&' && At(i + 2) == '"'))
        {
            i = SkipQuotedIdentifier(c == '"' ? i : i + 2);
            return SqlTokenKind.QuotedIdentifier;
        }

        if (c == '$')
        {
            if (char.IsAsciiDigit(At(i + 1)))
            {
                i++;
                while (i < sql.Length && char.IsAsciiDigit(sql[i]))
                {
                    i++;
                }

                return SqlTokenKind.Parameter;
            }

            if (DollarTagLength(i) is var tag and > 0)
            {
                var close = sql[(i + tag)..].IndexOf(sql.Slice(i, tag));
                _unterminated = close < 0;
                i = close < 0 ? sql.Length : i + tag + close + tag;
                return SqlTokenKind.String;
            }

            i++;
            return SqlTokenKind.Operator;
        }

        if (char.IsAsciiDigit(c) || (c == '.' && char.IsAsciiDigit(At(i + 1))))
        {
            i = SkipNumber(i);
            return SqlTokenKind.Number;
        }

        if (IsIdentifierStart(c))
        {
            i = SkipWord(sql, i + 1);
            return SqlTokenKind.Word;
        }

        i++;
        switch (c)
        {
            case '(':
                return SqlTokenKind.OpenParen;
            case ')':
                return SqlTokenKind.CloseParen;
            case '[':
                return SqlTokenKind.OpenBracket;
            case ']':
                return SqlTokenKind.CloseBracket;
            case ',':
                return SqlTokenKind.Comma;
            case ';':
                return SqlTokenKind.Semicolon;
            case '.':
                return SqlTokenKind.Dot;
            case '?':
                return SqlTokenKind.Placeholder;
            case ':' when At(i) == ':':
                i++;
                return SqlTokenKind.Operator;
            case ':':
                return SqlTokenKind.Colon;
        }

        if (OperatorChars.Contains(c))
        {
            i = SkipOperator(i - 1);
        }

        // Anything else (a stray backslash, a non-SQL character) is an operator of its own: it makes the
        // comparison around it unreadable to the advisor, which is the safe outcome.
        return SqlTokenKind.Operator;
    }

    private static int SkipWord(ReadOnlySpan<char> sql, int i)
    {
        while (true)
        {
            var stop = sql[i..].IndexOfAnyExcept(AsciiIdentifierParts);
            if (stop < 0)
            {
                return sql.Length;
            }

            i += stop;
            if (sql[i] <= 127)
            {
                return i;
            }

            i++;
        }
    }

    /// <summary>The length of a string prefix (E, B, X, N, U&amp;) at <paramref name="i"/> when it starts a word, else 0.</summary>
    private readonly int StringPrefixLength(int i)
    {
        if (i > 0 && IsIdentifierPart(_sql[i - 1]))
        {
            return 0;
        }

        return _sql[i] switch
        {
            'E' or 'e' or 'B' or 'b' or 'X' or 'x' or 'N' or 'n' => 1,
            'U' or 'u' when At(i + 1) == '&' => 2,
            _ => 0,
        };
    }

    private int SkipString(int open, bool backslashEscapes)
    {
        var sql = _sql;
        var i = open + 1;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (backslashEscapes && c == '\\')
            {
                i += 2;
            }
            else if (c != '\'')
            {
                i++;
            }
            else if (At(i + 1) == '\'')
            {
                i += 2;
            }
            else
            {
                return i + 1;
            }
        }

        _unterminated = true;
        return sql.Length;
    }

    private int SkipQuotedIdentifier(int open)
    {
        var sql = _sql;
        var i = open + 1;
        while (i < sql.Length)
        {
            var close = sql[i..].IndexOf('"');
            if (close < 0)
            {
                break;
            }

            i += close;
            if (At(i + 1) != '"')
            {
                return i + 1;
            }

            i += 2;
        }

        _unterminated = true;
        return sql.Length;
    }

    /// <summary>Skips a block comment (they nest); one left open takes the rest of the text.</summary>
    private int SkipBlockComment(int open)
    {
        var sql = _sql;
        var depth = 0;
        var i = open;
        while (i < sql.Length)
        {
            if (sql[i] == '/' && At(i + 1) == '*')
            {
                depth++;
                i += 2;
            }
            else if (sql[i] == '*' && At(i + 1) == '/')
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

        Unterminated = true;
        return sql.Length;
    }

    /// <summary>The length of <c>$$</c> or <c>$tag$</c> opening a dollar-quoted string at <paramref name="i"/>, else 0.</summary>
    private readonly int DollarTagLength(int i)
    {
        var sql = _sql;
        if (i > 0 && IsIdentifierPart(sql[i - 1]))
        {
            return 0;
        }

        var j = i + 1;
        if (j < sql.Length && IsIdentifierStart(sql[j]))
        {
            while (j < sql.Length && IsIdentifierPart(sql[j]) && sql[j] != '$')
            {
                j++;
            }
        }

        return At(j) == '$' ? j + 1 - i : 0;
    }

    private readonly int SkipNumber(int i)
    {
        var sql = _sql;
        if (sql[i] == '0' && At(i + 1) is 'x' or 'X' or 'o' or 'O' or 'b' or 'B')
        {
            var radix = char.ToLowerInvariant(sql[i + 1]) switch { 'x' => 16, 'o' => 8, _ => 2 };
            if (IsDigit(At(i + 2), radix))
            {
                i += 2;
                while (i < sql.Length && (IsDigit(sql[i], radix) || sql[i] == '_'))
                {
                    i++;
                }

                return i;
            }
        }

        while (i < sql.Length && (char.IsAsciiDigit(sql[i]) || sql[i] is '.' or '_'))
        {
            // "1..2" is not one number: stop before a second dot.
            if (sql[i] == '.' && At(i + 1) == '.')
            {
                break;
            }

            i++;
        }

        if (At(i) is 'e' or 'E' && (char.IsAsciiDigit(At(i + 1)) || (At(i + 1) is '+' or '-' && char.IsAsciiDigit(At(i + 2)))))
        {
            i += 2;
            while (i < sql.Length && char.IsAsciiDigit(sql[i]))
            {
                i++;
            }
        }

        return i;

        static bool IsDigit(char c, int radix) => radix switch
        {
            16 => char.IsAsciiHexDigit(c),
            8 => c is >= '0' and <= '7',
            _ => c is '0' or '1',
        };
    }

    /// <summary>
    /// PostgreSQL's operator rule: the longest run of operator characters, cut before a comment start, and a
    /// multi-character operator ends in + or - only when it holds one of ~ ! @ # % ^ &amp; | ` (so <c>=-1</c> is = and -1).
    /// </summary>
    private readonly int SkipOperator(int start)
    {
        var sql = _sql;
        var end = start;
        while (end < sql.Length && OperatorChars.Contains(sql[end]))
        {
            if (end > start && ((sql[end] == '-' && At(end + 1) == '-') || (sql[end] == '/' && At(end + 1) == '*')))
            {
                break;
            }

            end++;
        }

        if (end - start > 1 && !sql[start..end].ContainsAny(OperatorSpecials))
        {
            while (end - start > 1 && sql[end - 1] is '+' or '-')
            {
                end--;
            }
        }

        return end;
    }
}
