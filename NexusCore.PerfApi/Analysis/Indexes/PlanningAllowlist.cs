using System.Collections.Frozen;
using NexusCore.PerfApi.Sql;

namespace NexusCore.PerfApi.Analysis.Indexes;

/// <summary>
/// The functions, operators and types a statement may use for the advisor to plan it: those of the product's own
/// SQL (ClientsApi's statements and the migrations' read models), nothing else. Planning a statement can run code:
/// while estimating selectivity PostgreSQL evaluates STABLE functions whose arguments are constants (so a predicate
/// like <c>name = table_to_xml(…)::text::int</c> reads a table during EXPLAIN), a user-defined operator or cast is a
/// function, and a typed literal calls its type's input function. So every <c>name(</c> call, every operator and
/// every cast (<c>::type</c>, <c>CAST(… AS type)</c>, <c>type '…'</c>) is checked against the lists below, with
/// PostgreSQL's lexical rules (<see cref="SqlTokenizer"/>); a statement using anything else is refused with a fixed
/// reason and never reaches PREPARE. Where a word before a parenthesis is not certainly a keyword, it counts as a
/// call: the check refuses rather than guesses. Functions are allowed unqualified or qualified by <c>pg_catalog</c>.
/// <para>
/// To allow more, add the name here, with the product's statement that needs it. The lists are deliberately
/// short: a statement the advisor refuses only loses advice; one it plans runs whatever the planner evaluates.
/// </para>
/// </summary>
public static class PlanningAllowlist
{
    public const string FunctionRefused = "it calls a function outside the advisor's planning allowlist, so it is never planned";

    public const string OperatorRefused = "it uses an operator outside the advisor's planning allowlist, so it is never planned";

    public const string TypeRefused = "it casts to a type outside the advisor's planning allowlist, so it is never planned";

    public const string Unreadable = "its text does not lex or its parentheses do not balance, so it is never planned";

    public const string SeveralStatements = "its text holds several statements, so it is never planned";

    /// <summary>
    /// ClientsApi: lower (email and name lookups, sort by name), unnest (batch writes), to_tsquery and
    /// websearch_to_tsquery (search; plainto_tsquery is their sibling), count, sum, coalesce, nullif, round
    /// (dashboard and analytics), now and make_interval (updates, idempotency), date_trunc (analytics),
    /// get_client_dashboard_metrics (the migrations' reference dashboard). min, max and avg: aggregates, which the
    /// planner never evaluates.
    /// </summary>
    public static readonly FrozenSet<string> Functions = FrozenSet.ToFrozenSet(
    [
        "lower", "unnest", "to_tsquery", "websearch_to_tsquery", "plainto_tsquery",
        "count", "sum", "min", "max", "avg", "coalesce", "nullif", "round",
        "now", "date_trunc", "make_interval", "get_client_dashboard_metrics",
    ], StringComparer.Ordinal);

    /// <summary>Comparison, arithmetic, concatenation, full-text match (<c>@@</c>) and named arguments (<c>=&gt;</c>).</summary>
    public static readonly FrozenSet<string> Operators = FrozenSet.ToFrozenSet(
        ["=", "<>", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "||", "@@", "=>"], StringComparer.Ordinal);

    /// <summary>Built-in types a value may be cast to (<c>time</c> and <c>timestamp</c> also WITH/WITHOUT TIME ZONE).</summary>
    public static readonly FrozenSet<string> Types = FrozenSet.ToFrozenSet(
    [
        "bigint", "int8", "integer", "int", "int4", "smallint", "int2", "numeric", "decimal", "real", "float4", "float8",
        "double precision", "boolean", "bool", "text", "varchar", "character varying", "char", "character",
        "date", "time", "timetz", "timestamp", "timestamptz", "interval", "uuid", "jsonb", "bytea",
    ], StringComparer.Ordinal);

    /// <summary>PostgreSQL's reserved keywords: none can name a function, so none followed by "(" is a call.</summary>
    private static readonly FrozenSet<string> Reserved = FrozenSet.ToFrozenSet(
    [
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "both", "case", "check", "collate",
        "column", "constraint", "create", "current_catalog", "current_date", "current_role", "current_time",
        "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end", "except",
        "false", "fetch", "for", "foreign", "from", "grant", "group", "having", "in", "initially", "intersect", "into",
        "lateral", "leading", "limit", "localtime", "localtimestamp", "not", "null", "offset", "on", "only", "or", "order",
        "placing", "primary", "references", "returning", "select", "session_user", "some", "symmetric", "table", "then",
        "to", "trailing", "true", "union", "unique", "user", "using", "variadic", "when", "where", "window", "with",
    ], StringComparer.Ordinal);

    /// <summary>Keywords whose "(" opens special syntax, never a function's arguments (they cannot name a function).</summary>
    private static readonly FrozenSet<string> SpecialSyntax = FrozenSet.ToFrozenSet(["exists", "row", "values", "between"], StringComparer.Ordinal);

    /// <summary>Keywords that may name a function too: "(" after them is syntax only right after an operand (<c>t JOIN (…)</c>, <c>a LIKE (…)</c>).</summary>
    private static readonly FrozenSet<string> Infix = FrozenSet.ToFrozenSet(
        ["join", "like", "ilike", "similar", "overlaps", "is", "isnull", "notnull", "set"], StringComparer.Ordinal);

    /// <summary>Words (besides reserved ones and types) a value may follow directly: <c>LIKE $1</c>, <c>FETCH FIRST $1 ROWS</c>, <c>AT TIME ZONE $1</c>.</summary>
    private static readonly FrozenSet<string> BeforeValue = FrozenSet.ToFrozenSet(
    [
        "like", "ilike", "similar", "escape", "between", "is", "overlaps", "first", "next", "rows", "row", "zone",
        "precision", "varying", "preceding", "following", "by", "set",
    ], StringComparer.Ordinal);

    /// <summary>Null when the statement may be planned; else the fixed reason it may not.</summary>
    public static string? Refusal(string sql) =>
        SqlTokenizer.Tokenize(sql) is { } tokens ? Refusal(tokens) : Unreadable;

    /// <inheritdoc cref="Refusal(string)"/>
    public static string? Refusal(IReadOnlyList<SqlToken> tokens)
    {
        if (Match(tokens) is not { } match)
        {
            return Unreadable;
        }

        // One statement: PREPARE takes no more, and nothing may ride along after it.
        var last = tokens.Count - 1;
        while (last >= 0 && tokens[last].Kind == SqlTokenKind.Semicolon)
        {
            last--;
        }

        for (var i = 0; i < last; i++)
        {
            if (tokens[i].Kind == SqlTokenKind.Semicolon)
            {
                return SeveralStatements;
            }
        }

        var consumed = new bool[tokens.Count];
        for (var i = 0; i < tokens.Count; i++)
        {
            if (consumed[i])
            {
                continue;
            }

            var token = tokens[i];
            if (token.Kind == SqlTokenKind.Operator)
            {
                if (token.Value == "::")
                {
                    if (ReadType(tokens, i + 1) is not { } end)
                    {
                        return TypeRefused;
                    }

                    Consume(consumed, i + 1, end);
                    continue;
                }

                if (!Operators.Contains(token.Value))
                {
                    return OperatorRefused;
                }

                continue;
            }

            if (token.Kind is not (SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier) || i + 1 >= tokens.Count)
            {
                continue;
            }

            var next = tokens[i + 1];
            if (next.Kind == SqlTokenKind.OpenParen)
            {
                if (token.IsWord("cast"))
                {
                    // CAST(expression AS type): the type is what follows the last AS at the parenthesis' own depth.
                    if (CastType(tokens, match, i + 1) is not { } asIndex)
                    {
                        return TypeRefused;
                    }

                    Consume(consumed, asIndex, match[i + 1]);
                    continue;
                }

                if (IsCall(tokens, match, i))
                {
                    var qualified = i >= 1 && tokens[i - 1].Kind == SqlTokenKind.Dot;
                    if (qualified && !(i >= 2 && tokens[i - 2].IsWord("pg_catalog") && (i < 3 || tokens[i - 3].Kind != SqlTokenKind.Dot)))
                    {
                        return FunctionRefused;
                    }

                    if (!Functions.Contains(token.Value))
                    {
                        return FunctionRefused;
                    }
                }

                continue;
            }

            // A typed literal (type 'text', type $1) calls the type's input function.
            if (next.Kind is SqlTokenKind.String or SqlTokenKind.Parameter or SqlTokenKind.Placeholder
                && (token.Kind == SqlTokenKind.QuotedIdentifier
                    || !(Reserved.Contains(token.Value) || BeforeValue.Contains(token.Value) || Types.Contains(token.Value))))
            {
                return TypeRefused;
            }
        }

        return null;
    }

    /// <summary>Whether the word (or quoted name) at <paramref name="i"/>, followed by "(", calls a function.</summary>
    private static bool IsCall(IReadOnlyList<SqlToken> tokens, int[] match, int i)
    {
        var token = tokens[i];
        var previous = i > 0 ? tokens[i - 1] : default;
        var hasPrevious = i > 0;

        // An alias with column names (AS u(a, b), or after a function in FROM), FILTER (…) and OVER (…) after a call.
        if (hasPrevious && (previous.IsWord("as") || previous.Kind == SqlTokenKind.CloseParen))
        {
            return false;
        }

        // A common table expression with column names: name(a, b) AS ( or AS [NOT] MATERIALIZED.
        var close = match[i + 1];
        if (close + 2 < tokens.Count && tokens[close + 1].IsWord("as")
            && (tokens[close + 2].Kind == SqlTokenKind.OpenParen || tokens[close + 2].IsWord("materialized") || tokens[close + 2].IsWord("not")))
        {
            return false;
        }

        if (token.Kind == SqlTokenKind.QuotedIdentifier)
        {
            return true;
        }

        var word = token.Value;
        if (Reserved.Contains(word) || SpecialSyntax.Contains(word))
        {
            return false;
        }

        if (word == "by" && hasPrevious && (previous.IsWord("order") || previous.IsWord("group") || previous.IsWord("partition")))
        {
            return false;
        }

        if (word == "materialized" && hasPrevious && previous.IsWord("not"))
        {
            return false;
        }

        return !(Infix.Contains(word) && hasPrevious && EndsOperand(previous));
    }

    private static bool EndsOperand(SqlToken token) =>
        token.Kind is SqlTokenKind.QuotedIdentifier or SqlTokenKind.CloseParen or SqlTokenKind.CloseBracket
            or SqlTokenKind.Parameter or SqlTokenKind.String or SqlTokenKind.Number or SqlTokenKind.Placeholder
        || (token.Kind == SqlTokenKind.Word && !Reserved.Contains(token.Value));

    /// <summary>
    /// Reads a type name from <paramref name="start"/> (<c>pg_catalog.</c> optional; a modifier like <c>(5, 2)</c>;
    /// WITH/WITHOUT TIME ZONE; array brackets) and returns where it ends, or null when it is not an allowed type.
    /// </summary>
    private static int? ReadType(IReadOnlyList<SqlToken> tokens, int start)
    {
        var j = start;
        if (At(tokens, j).IsWord("pg_catalog") && At(tokens, j + 1).Kind == SqlTokenKind.Dot)
        {
            j += 2;
        }

        if (At(tokens, j).Kind != SqlTokenKind.Word)
        {
            return null;
        }

        var name = tokens[j++].Value;
        if ((name == "double" && At(tokens, j).IsWord("precision")) || (name == "character" && At(tokens, j).IsWord("varying")))
        {
            name = $"{name} {tokens[j++].Value}";
        }

        if (!Types.Contains(name))
        {
            return null;
        }

        if (At(tokens, j).Kind == SqlTokenKind.OpenParen)
        {
            j++;
            while (At(tokens, j).Kind == SqlTokenKind.Number)
            {
                j++;
                if (At(tokens, j).Kind == SqlTokenKind.Comma)
                {
                    j++;
                }
            }

            if (At(tokens, j).Kind != SqlTokenKind.CloseParen)
            {
                return null;
            }

            j++;
        }

        if (name is "time" or "timestamp" && (At(tokens, j).IsWord("with") || At(tokens, j).IsWord("without"))
            && At(tokens, j + 1).IsWord("time") && At(tokens, j + 2).IsWord("zone"))
        {
            j += 3;
        }

        while (At(tokens, j).Kind == SqlTokenKind.OpenBracket)
        {
            j++;
            if (At(tokens, j).Kind == SqlTokenKind.Number)
            {
                j++;
            }

            if (At(tokens, j).Kind != SqlTokenKind.CloseBracket)
            {
                return null;
            }

            j++;
        }

        return j;
    }

    /// <summary>The index of the AS whose allowed type ends exactly at CAST's closing parenthesis, or null.</summary>
    private static int? CastType(IReadOnlyList<SqlToken> tokens, int[] match, int open)
    {
        var close = match[open];
        int? lastAs = null;
        for (var j = open + 1; j < close; j++)
        {
            if (tokens[j].Kind == SqlTokenKind.OpenParen)
            {
                j = match[j];
            }
            else if (tokens[j].IsWord("as"))
            {
                lastAs = j;
            }
        }

        return lastAs is { } asIndex && ReadType(tokens, asIndex + 1) == close ? asIndex : null;
    }

    /// <summary>The matching parenthesis of each parenthesis (-1 elsewhere), or null when they do not balance.</summary>
    private static int[]? Match(IReadOnlyList<SqlToken> tokens)
    {
        var match = new int[tokens.Count];
        var open = new Stack<int>();
        for (var i = 0; i < tokens.Count; i++)
        {
            match[i] = -1;
            if (tokens[i].Kind == SqlTokenKind.OpenParen)
            {
                open.Push(i);
            }
            else if (tokens[i].Kind == SqlTokenKind.CloseParen)
            {
                if (open.Count == 0)
                {
                    return null;
                }

                var start = open.Pop();
                match[start] = i;
                match[i] = start;
            }
        }

        return open.Count == 0 ? match : null;
    }

    private static SqlToken At(IReadOnlyList<SqlToken> tokens, int i) =>
        i < tokens.Count ? tokens[i] : new SqlToken(SqlTokenKind.Semicolon, "", 0, 0);

    private static void Consume(bool[] consumed, int from, int to)
    {
        for (var k = from; k < to && k < consumed.Length; k++)
        {
            consumed[k] = true;
        }
    }
}
