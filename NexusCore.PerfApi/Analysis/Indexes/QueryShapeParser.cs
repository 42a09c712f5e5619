using NexusCore.PerfApi.Sql;
namespace NexusCore.PerfApi.Analysis.Indexes;

/// <summary>How a statement uses a column: what kind of index key it could be.</summary>
public enum ColumnRole
{
    /// <summary><c>col = value</c>, <c>col IN (…)</c>, <c>col = ANY(…)</c>: an index's leading keys.</summary>
    Equality,

    /// <summary><c>col &lt; value</c>, <c>&gt;=</c>, <c>BETWEEN</c>: a key after the equality ones.</summary>
    Range,

    /// <summary><c>a.col = b.col</c>: the key a nested loop or merge join looks up.</summary>
    Join,

    /// <summary>A leading <c>ORDER BY</c> column: a key that saves a sort (with LIMIT, most of the scan).</summary>
    Order,
}

/// <summary>A table the statement reads: its name as written (schema optional) and its alias.</summary>
public sealed record TableReference(string? Schema, string Name, string? Alias);

/// <summary>A column as the statement names it (qualified by an alias or table, or not), and its role.</summary>
/// <param name="Position">For <see cref="ColumnRole.Order"/>, its place in the ORDER BY list (0 first).</param>
public sealed record ColumnReference(string? Qualifier, string Column, ColumnRole Role, int Position = 0);

/// <summary>What an index could serve in one statement.</summary>
/// <param name="Verb">select, update or delete.</param>
/// <param name="ParameterCount">The highest <c>$n</c> it uses (after placeholders were numbered).</param>
public sealed record ParsedStatement(
    string Verb,
    IReadOnlyList<TableReference> Tables,
    IReadOnlyList<ColumnReference> Columns,
    IReadOnlySet<string> CommonTableExpressions,
    int ParameterCount);

/// <summary>A statement's parse, or why it cannot be analysed.</summary>
public sealed record ParseResult(ParsedStatement? Statement, string? Rejected)
{
    public static ParseResult Reject(string reason) => new(null, reason);
}

/// <summary>
/// Finds, in one SQL statement, the tables it reads (FROM, JOIN, UPDATE and DELETE targets, with aliases), the
/// columns it compares with values (<c>=</c>, <c>&lt;</c>, <c>&gt;</c>, <c>&lt;=</c>, <c>&gt;=</c>, IN, = ANY,
/// BETWEEN, either side), the join keys (<c>a.x = b.y</c>) and its leading ORDER BY columns. Only plain column
/// references count: <c>lower(name) = $1</c> or <c>a + 1 = $1</c> are expressions a plain index does not serve.
/// Statements other than one SELECT, UPDATE or DELETE (possibly after WITH) are rejected, and so is any text
/// with more than one statement: the text is later prepared, and one statement is all PREPARE takes.
/// </summary>
public static class QueryShapeParser
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "all", "and", "any", "array", "as", "asc", "asymmetric", "at", "between", "both", "by", "case", "cast", "collate",
        "cross", "current_catalog", "current_date", "current_role", "current_schema", "current_time", "current_timestamp",
        "current_user", "default", "desc", "distinct", "do", "else", "end", "escape", "except", "exists", "false", "fetch",
        "filter", "first", "for", "from", "full", "group", "having", "ilike", "in", "inner", "intersect", "into", "is",
        "isnull", "join", "last", "lateral", "leading", "left", "like", "limit", "localtime", "localtimestamp", "natural",
        "not", "notnull", "null", "nulls", "offset", "on", "only", "or", "order", "outer", "over", "overlaps", "returning",
        "right", "row", "select", "session_user", "set", "similar", "some", "symmetric", "table", "then", "trailing",
        "true", "union", "unknown", "user", "using", "values", "when", "where", "window", "with", "zone",
    };

    /// <summary>Words that end one side of a comparison.</summary>
    private static readonly HashSet<string> Boundaries = new(StringComparer.Ordinal)
    {
        "and", "or", "not", "where", "on", "when", "then", "else", "end", "case", "having",
    };

    private static readonly HashSet<string> Comparisons = new(StringComparer.Ordinal) { "=", "<", ">", "<=", ">=" };

    /// <summary>Words after which a query clause other than FROM, WHERE, ON or ORDER BY begins.</summary>
    private static readonly HashSet<string> OtherClauses = new(StringComparer.Ordinal)
    {
        "group", "having", "limit", "offset", "fetch", "for", "window", "returning", "union", "intersect", "except", "set", "select",
    };

    private enum Clause
    {
        None,
        From,
        Predicate,
        Order,
        Other,
    }

    private enum FrameKind
    {
        /// <summary>A query (the statement, or a subquery): clause keywords count here.</summary>
        Query,

        /// <summary>Parentheses grouping a condition: inside is still the condition.</summary>
        Group,

        /// <summary>A function's arguments, a list, a type modifier: no clause keywords here.</summary>
        Expression,
    }

    private sealed class Frame(FrameKind kind, Clause clause)
    {
        public FrameKind Kind { get; } = kind;

        public Clause Clause { get; set; } = clause;

        public bool ExpectTable { get; set; }

        public bool DerivedTable { get; init; }

        public bool SkipAlias { get; set; }
    }

    public static ParseResult Parse(string sql)
    {
        var all = SqlTokenizer.Tokenize(sql);
        if (all is null)
        {
            return ParseResult.Reject(sql.Contains('\0', StringComparison.Ordinal)
                ? "the text holds a NUL character, which no PostgreSQL statement can"
                : "the text does not lex (an unterminated string, identifier or comment)");
        }

        var tokens = all.ToList();
        while (tokens.Count > 0 && tokens[^1].Kind == SqlTokenKind.Semicolon)
        {
            tokens.RemoveAt(tokens.Count - 1);
        }

        if (tokens.Count == 0)
        {
            return ParseResult.Reject("the text is empty");
        }

        if (tokens.Any(t => t.Kind == SqlTokenKind.Semicolon))
        {
            return ParseResult.Reject("the text holds several statements");
        }

        if (tokens.Any(t => t.Kind == SqlTokenKind.Placeholder))
        {
            return ParseResult.Reject("the text holds '?' (a literal PerfApi's telemetry replaced, or a jsonb operator), which the advisor does not plan");
        }

        var match = Match(tokens);
        if (match is null)
        {
            return ParseResult.Reject("the parentheses do not balance");
        }

        var (verb, ctes) = VerbAndCtes(tokens, match);
        if (verb is not ("select" or "update" or "delete"))
        {
            return ParseResult.Reject(verb is null ? "no statement verb was found" : $"{verb.ToUpperInvariant()} statements are not analysed (only SELECT, UPDATE and DELETE)");
        }

        var context = new Clause[tokens.Count];
        var depth = new int[tokens.Count];
        var tables = new List<TableReference>();
        Walk(tokens, match, context, depth, tables);

        var columns = new List<ColumnReference>();
        FindComparisons(tokens, match, context, depth, columns);
        FindOrderBy(tokens, match, context, depth, columns);

        var parameters = tokens.Where(t => t.Kind == SqlTokenKind.Parameter)
            .Select(t => int.TryParse(t.Value, out var n) ? n : int.MaxValue)
            .DefaultIfEmpty(0)
            .Max();
        if (parameters > 65_535)
        {
            return ParseResult.Reject("a parameter number is out of range");
        }

        return new ParseResult(new ParsedStatement(verb, tables, columns.Distinct().ToList(), ctes, parameters), null);
    }

    /// <summary>The index of the matching parenthesis of every parenthesis, or null when they do not balance.</summary>
    private static int[]? Match(List<SqlToken> tokens)
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

    /// <summary>The main verb (after leading parentheses and a WITH clause) and the names the WITH clause defines.</summary>
    private static (string? Verb, IReadOnlySet<string> Ctes) VerbAndCtes(List<SqlToken> tokens, int[] match)
    {
        var ctes = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        while (i < tokens.Count && tokens[i].Kind == SqlTokenKind.OpenParen)
        {
            i++;
        }

        if (i < tokens.Count && tokens[i].IsWord("with"))
        {
            i++;
            if (i < tokens.Count && tokens[i].IsWord("recursive"))
            {
                i++;
            }

            while (i < tokens.Count && tokens[i].Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier)
            {
                ctes.Add(tokens[i].Value);
                i++;
                if (i < tokens.Count && tokens[i].Kind == SqlTokenKind.OpenParen)
                {
                    i = match[i] + 1;
                }

                if (i >= tokens.Count || !tokens[i].IsWord("as"))
                {
                    return (null, ctes);
                }

                i++;
                while (i < tokens.Count && (tokens[i].IsWord("not") || tokens[i].IsWord("materialized")))
                {
                    i++;
                }

                if (i >= tokens.Count || tokens[i].Kind != SqlTokenKind.OpenParen)
                {
                    return (null, ctes);
                }

                i = match[i] + 1;
                if (i < tokens.Count && tokens[i].Kind == SqlTokenKind.Comma)
                {
                    i++;
                    continue;
                }

                break;
            }
        }

        while (i < tokens.Count && tokens[i].Kind == SqlTokenKind.OpenParen)
        {
            i++;
        }

        return (i < tokens.Count && tokens[i].Kind == SqlTokenKind.Word ? tokens[i].Value : null, ctes);
    }

    /// <summary>
    /// One pass that gives each token the clause it is in (per level of parentheses) and collects the tables
    /// named where a table is expected.
    /// </summary>
    private static void Walk(List<SqlToken> tokens, int[] match, Clause[] context, int[] depth, List<TableReference> tables)
    {
        var frames = new Stack<Frame>();
        frames.Push(new Frame(FrameKind.Query, Clause.None));
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            var frame = frames.Peek();
            depth[i] = frames.Count - 1;
            context[i] = frame.Clause;

            if (token.Kind == SqlTokenKind.OpenParen)
            {
                var next = i + 1 < tokens.Count ? tokens[i + 1] : default;
                var subquery = next.IsWord("select") || next.IsWord("with") || next.IsWord("values");
                Frame inner;
                if (frame.Clause == Clause.From && frame.ExpectTable)
                {
                    // A derived table, or parentheses around joins.
                    inner = subquery
                        ? new Frame(FrameKind.Query, Clause.None) { DerivedTable = true }
                        : new Frame(FrameKind.Query, Clause.From) { ExpectTable = true, DerivedTable = true };
                    frame.ExpectTable = false;
                }
                else if (subquery)
                {
                    inner = new Frame(FrameKind.Query, Clause.None);
                }
                else if (frame.Clause == Clause.Predicate && IsConditionStart(tokens, i))
                {
                    inner = new Frame(FrameKind.Group, Clause.Predicate);
                }
                else
                {
                    inner = new Frame(FrameKind.Expression, Clause.Other);
                }

                frames.Push(inner);
                continue;
            }

            if (token.Kind == SqlTokenKind.CloseParen)
            {
                var closed = frames.Count > 1 ? frames.Pop() : frame;
                depth[i] = frames.Count - 1;
                context[i] = frames.Peek().Clause;
                if (closed.DerivedTable)
                {
                    frames.Peek().SkipAlias = true;
                }

                continue;
            }

            if (frame.Kind != FrameKind.Query)
            {
                continue;
            }

            if (token.Kind == SqlTokenKind.Word && !(frame.Clause == Clause.From && frame.ExpectTable && !Keywords.Contains(token.Value)))
            {
                if (Switch(tokens, i, frame))
                {
                    context[i] = frame.Clause;
                    continue;
                }
            }

            if (frame.Clause != Clause.From)
            {
                continue;
            }

            if (token.Kind == SqlTokenKind.Comma)
            {
                frame.ExpectTable = true;
                frame.SkipAlias = false;
                continue;
            }

            if (frame.SkipAlias)
            {
                // The alias of a derived table or a function in FROM, and its column list.
                if (token.IsWord("as") || (token.Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier && !Keywords.Contains(token.Value)))
                {
                    continue;
                }

                frame.SkipAlias = false;
            }

            if (frame.ExpectTable && token.Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier)
            {
                if (token.IsWord("only") || token.IsWord("lateral"))
                {
                    continue;
                }

                i = ReadTable(tokens, i, tables, frame);
            }
        }
    }

    /// <summary>Reads <c>[schema.]name [*] [[AS] alias]</c> at <paramref name="i"/>; returns the index of its last token.</summary>
    private static int ReadTable(List<SqlToken> tokens, int i, List<TableReference> tables, Frame frame)
    {
        frame.ExpectTable = false;
        var parts = new List<string> { tokens[i].Value };
        while (i + 2 < tokens.Count && tokens[i + 1].Kind == SqlTokenKind.Dot && tokens[i + 2].Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier)
        {
            parts.Add(tokens[i + 2].Value);
            i += 2;
        }

        if (i + 1 < tokens.Count && tokens[i + 1].Kind == SqlTokenKind.OpenParen)
        {
            // A function in FROM (generate_series(…), unnest(…)): not a table; its alias follows the call.
            frame.SkipAlias = true;
            return i;
        }

        if (i + 1 < tokens.Count && tokens[i + 1].IsOperator("*"))
        {
            i++;
        }

        string? alias = null;
        if (i + 1 < tokens.Count && tokens[i + 1].IsWord("as"))
        {
            i++;
        }

        if (i + 1 < tokens.Count && IsName(tokens[i + 1]) && !tokens[i + 1].IsWord("tablesample"))
        {
            alias = tokens[i + 1].Value;
            i++;
        }

        tables.Add(new TableReference(parts.Count >= 2 ? parts[^2] : null, parts[^1], alias));
        return i;
    }

    /// <summary>Moves <paramref name="frame"/> to the clause a keyword at <paramref name="i"/> starts; false when it starts none.</summary>
    private static bool Switch(List<SqlToken> tokens, int i, Frame frame)
    {
        var word = tokens[i].Value;
        var next = i + 1 < tokens.Count ? tokens[i + 1] : default;
        switch (word)
        {
            case "from":
            case "join":
                frame.Clause = Clause.From;
                frame.ExpectTable = true;
                frame.SkipAlias = false;
                return true;
            case "update" when frame.Clause == Clause.None:
                frame.Clause = Clause.From;
                frame.ExpectTable = true;
                return true;
            case "using" when frame.Clause == Clause.From && !frame.ExpectTable && next.Kind != SqlTokenKind.OpenParen:
                // DELETE … USING other_table.
                frame.ExpectTable = true;
                return true;
            case "using":
                frame.Clause = Clause.Other;
                return true;
            case "left" or "right" or "inner" or "full" or "cross" or "natural" when next.Kind != SqlTokenKind.OpenParen && frame.Clause is Clause.Predicate or Clause.From:
                // The next join of a FROM list: the ON condition before it ends here.
                frame.Clause = Clause.From;
                frame.ExpectTable = false;
                return true;
            case "where":
            case "on" when frame.Clause == Clause.From:
                frame.Clause = Clause.Predicate;
                return true;
            case "order" when next.IsWord("by"):
                frame.Clause = Clause.Order;
                return true;
            default:
                if (OtherClauses.Contains(word))
                {
                    frame.Clause = word == "select" ? Clause.None : Clause.Other;
                    return true;
                }

                return false;
        }
    }

    /// <summary>Whether a parenthesis opens a condition group rather than a call, a list or a row.</summary>
    private static bool IsConditionStart(List<SqlToken> tokens, int open)
    {
        if (open == 0)
        {
            return false;
        }

        var before = tokens[open - 1];
        return before.Kind == SqlTokenKind.OpenParen
            || (before.Kind == SqlTokenKind.Word && before.Value is "where" or "on" or "and" or "or" or "not" or "when" or "having");
    }

    private static void FindComparisons(List<SqlToken> tokens, int[] match, Clause[] context, int[] depth, List<ColumnReference> columns)
    {
        for (var k = 0; k < tokens.Count; k++)
        {
            if (context[k] != Clause.Predicate)
            {
                continue;
            }

            var token = tokens[k];
            var isComparison = token.Kind == SqlTokenKind.Operator && Comparisons.Contains(token.Value);
            var isIn = token.IsWord("in");
            var isBetween = token.IsWord("between");
            if (!isComparison && !isIn && !isBetween)
            {
                continue;
            }

            if ((isIn || isBetween) && k > 0 && tokens[k - 1].IsWord("not"))
            {
                continue;
            }

            var leftStart = SideStart(tokens, match, depth, k);
            var rightStart = k + 1;
            if (isBetween && rightStart < tokens.Count && (tokens[rightStart].IsWord("symmetric") || tokens[rightStart].IsWord("asymmetric")))
            {
                rightStart++;
            }

            var rightEnd = SideEnd(tokens, match, context, depth, rightStart, k);
            if (leftStart >= k || rightEnd <= rightStart)
            {
                continue;
            }

            var role = (isComparison && token.Value != "=") || isBetween ? ColumnRole.Range : ColumnRole.Equality;
            if (isIn && tokens[rightStart].Kind != SqlTokenKind.OpenParen)
            {
                continue;
            }

            if (isComparison && tokens[rightStart].Kind == SqlTokenKind.Word && tokens[rightStart].Value is "any" or "some" or "all")
            {
                if (token.Value != "=" || tokens[rightStart].Value == "all" || rightStart + 1 >= rightEnd || tokens[rightStart + 1].Kind != SqlTokenKind.OpenParen)
                {
                    continue;
                }

                rightStart++;
            }

            var left = ColumnAt(tokens, leftStart, k);
            var right = isComparison ? ColumnAt(tokens, rightStart, rightEnd) : null;
            if (left is not null && right is not null)
            {
                if (token.Value == "=")
                {
                    columns.Add(left with { Role = ColumnRole.Join });
                    columns.Add(right with { Role = ColumnRole.Join });
                }

                continue;
            }

            if (left is not null && !HasColumn(tokens, rightStart, rightEnd))
            {
                columns.Add(left with { Role = role });
            }
            else if (isComparison && right is not null && !HasColumn(tokens, leftStart, k))
            {
                columns.Add(right with { Role = role });
            }
        }
    }

    /// <summary>Where the left side of an operator at <paramref name="op"/> starts: after the nearest boundary at its level.</summary>
    private static int SideStart(List<SqlToken> tokens, int[] match, int[] depth, int op)
    {
        var i = op - 1;
        while (i >= 0)
        {
            var token = tokens[i];
            if (token.Kind == SqlTokenKind.CloseParen)
            {
                i = match[i] - 1;
                continue;
            }

            if (depth[i] != depth[op] || token.Kind is SqlTokenKind.OpenParen or SqlTokenKind.Comma
                || (token.Kind == SqlTokenKind.Word && Boundaries.Contains(token.Value))
                || (token.Kind == SqlTokenKind.Operator && Comparisons.Contains(token.Value)))
            {
                break;
            }

            i--;
        }

        return i + 1;
    }

    /// <summary>Where the right side of an operator ends (exclusive): at the nearest boundary at its level.</summary>
    private static int SideEnd(List<SqlToken> tokens, int[] match, Clause[] context, int[] depth, int start, int op)
    {
        var i = start;
        while (i < tokens.Count)
        {
            var token = tokens[i];
            if (token.Kind == SqlTokenKind.OpenParen)
            {
                i = match[i] + 1;
                continue;
            }

            if (depth[i] != depth[op] || context[i] != Clause.Predicate || token.Kind is SqlTokenKind.CloseParen or SqlTokenKind.Comma
                || (token.Kind == SqlTokenKind.Word && (Boundaries.Contains(token.Value) || OtherClauses.Contains(token.Value) || token.Value is "order" or "is"))
                || (token.Kind == SqlTokenKind.Operator && Comparisons.Contains(token.Value)))
            {
                break;
            }

            i++;
        }

        return i;
    }

    /// <summary>The column <c>[[schema.]table.]column</c> that is the whole of tokens [start, end), or null.</summary>
    private static ColumnReference? ColumnAt(List<SqlToken> tokens, int start, int end)
    {
        var count = end - start;
        if (count is not (1 or 3 or 5))
        {
            return null;
        }

        for (var i = start; i < end; i++)
        {
            var expectName = (i - start) % 2 == 0;
            if (expectName ? !IsName(tokens[i]) : tokens[i].Kind != SqlTokenKind.Dot)
            {
                return null;
            }
        }

        return new ColumnReference(count >= 3 ? tokens[end - 3].Value : null, tokens[end - 1].Value, ColumnRole.Equality);
    }

    /// <summary>Whether tokens [start, end) mention a column (so they are no constant a value could be looked up by).</summary>
    private static bool HasColumn(List<SqlToken> tokens, int start, int end)
    {
        for (var i = start; i < end; i++)
        {
            var token = tokens[i];
            if (token.Kind == SqlTokenKind.Operator && token.Value == "::")
            {
                // A type name, possibly of several words, array brackets and a modifier: skip it.
                i++;
                while (i + 1 < end && tokens[i + 1].Kind is SqlTokenKind.Word or SqlTokenKind.OpenBracket or SqlTokenKind.CloseBracket or SqlTokenKind.Dot)
                {
                    i++;
                }

                continue;
            }

            if (token.Kind is not (SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier))
            {
                continue;
            }

            var next = i + 1 < end ? tokens[i + 1] : default;
            if (token.Kind == SqlTokenKind.Word && Keywords.Contains(token.Value))
            {
                continue;
            }

            if (next.Kind == SqlTokenKind.OpenParen || next.Kind == SqlTokenKind.String)
            {
                // A function call, or a typed constant (interval '1 day', timestamp '…').
                continue;
            }

            if (token.IsWord("time") && ((i > start && tokens[i - 1].IsWord("at")) || next.IsWord("zone")))
            {
                continue;
            }

            return true;
        }

        return false;
    }

    private static void FindOrderBy(List<SqlToken> tokens, int[] match, Clause[] context, int[] depth, List<ColumnReference> columns)
    {
        for (var k = 0; k + 1 < tokens.Count; k++)
        {
            if (!tokens[k].IsWord("order") || !tokens[k + 1].IsWord("by") || context[k] != Clause.Order)
            {
                continue;
            }

            var position = 0;
            var i = k + 2;
            while (i < tokens.Count)
            {
                var end = i;
                while (end < tokens.Count && depth[end] == depth[k] && context[end] == Clause.Order && tokens[end].Kind != SqlTokenKind.Comma)
                {
                    end = tokens[end].Kind == SqlTokenKind.OpenParen ? match[end] + 1 : end + 1;
                }

                var columnEnd = end;
                while (columnEnd > i && tokens[columnEnd - 1].Kind == SqlTokenKind.Word && tokens[columnEnd - 1].Value is "asc" or "desc" or "nulls" or "first" or "last")
                {
                    columnEnd--;
                }

                if (ColumnAt(tokens, i, columnEnd) is not { } column)
                {
                    break;
                }

                columns.Add(column with { Role = ColumnRole.Order, Position = position++ });
                if (end >= tokens.Count || tokens[end].Kind != SqlTokenKind.Comma)
                {
                    break;
                }

                i = end + 1;
            }
        }
    }

    private static bool IsName(SqlToken token) =>
        token.Kind == SqlTokenKind.QuotedIdentifier || (token.Kind == SqlTokenKind.Word && !Keywords.Contains(token.Value));
}
