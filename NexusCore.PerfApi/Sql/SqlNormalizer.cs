using System.Buffers;

namespace NexusCore.PerfApi.Sql;

/// <summary>A SQL text reduced to its shape: literals replaced, plus the verb and main table it names.</summary>
/// <param name="Statement">Whitespace collapsed, comments removed, literals replaced by <c>?</c>.</param>
/// <param name="Verb">The statement's verb in upper case (<c>SELECT</c>, <c>INSERT</c>…), or null.</param>
/// <param name="Table">The main table (<c>FROM</c>, <c>INTO</c>, <c>UPDATE</c> target) without quotes, or null.</param>
public sealed record SqlShape(string Statement, string? Verb, string? Table);

/// <summary>
/// Normalizes SQL text so that executions differing only in literal values group together, as
/// pg_stat_statements does: comments dropped, whitespace collapsed (one space where the text had white space or a
/// comment between two tokens), string, dollar-quoted and numeric literals replaced by <c>?</c>, lists of literals
/// (<c>IN (1, 2, 3)</c>, the rows of <c>VALUES (1, 'a'), (2, 'b')</c>) collapsed to <c>(?)</c>. Positional
/// parameters (<c>$1</c>, which Npgsql sends), quoted identifiers, words and operators are kept as written. The
/// tokens are <see cref="SqlLexer"/>'s; the only allocation is the result.
/// </summary>
public static class SqlNormalizer
{
    /// <summary>Texts up to this length are normalized in a stack buffer; longer ones in a rented array.</summary>
    internal const int StackChars = 512;

    private static readonly string[] Verbs = ["SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "CALL", "VALUES", "TRUNCATE"];

    public static SqlShape Shape(string sql, int maxLength)
    {
        var reader = default(ShapeReader);
        var statement = Normalize(sql, maxLength, ref reader, readShape: true);

        // The verb and table are read from the normalized statement. They are read from the same tokens as they
        // are normalized, unless the statement was cut: then from what is left (a table cut short ends in "…").
        var (verb, table) = statement.Length > maxLength ? ShapeReader.Read(statement) : reader.Finish(sql);
        return new SqlShape(statement, verb, table);
    }

    /// <summary>The normalized text, cut at <paramref name="maxLength"/> characters with an ellipsis when longer.</summary>
    public static string Normalize(string sql, int maxLength)
    {
        var reader = default(ShapeReader);
        return Normalize(sql, maxLength, ref reader, readShape: false);
    }

    private static string Normalize(string sql, int maxLength, ref ShapeReader reader, bool readShape)
    {
        // No try/finally: an array not returned after an exception is only collected.
        var capacity = Math.Min(sql.Length, maxLength + 1);
        if (capacity <= StackChars)
        {
            return Write(sql, maxLength, new SqlTextBuffer(stackalloc char[capacity]), ref reader, readShape);
        }

        var rented = ArrayPool<char>.Shared.Rent(capacity);
        var statement = Write(sql, maxLength, new SqlTextBuffer(rented), ref reader, readShape);
        ArrayPool<char>.Shared.Return(rented);
        return statement;
    }

    private static string Write(string sql, int maxLength, SqlTextBuffer buffer, ref ShapeReader reader, bool readShape)
    {
        // Tokens written as they are, with the single spaces between them, are copied as one run.
        var lexer = new SqlLexer(sql);
        var run = (Start: 0, Length: 0);
        var previousEnd = 0;
        var previousWasLiteral = false;
        while (buffer.Length + run.Length <= maxLength && lexer.Next(out var token))
        {
            if (readShape)
            {
                reader.Read(token, sql);
            }

            var literal = token.Kind is SqlTokenKind.String or SqlTokenKind.Number or SqlTokenKind.Placeholder;

            // A ")" right after a literal may close a list of them; after anything else it is only itself.
            var verbatim = !literal && !(token.Kind == SqlTokenKind.CloseParen && previousWasLiteral);
            if (verbatim && run.Length > 0 && (!token.SpaceBefore || (token.Start - previousEnd == 1 && sql[previousEnd] == ' ')))
            {
                run.Length = token.End - run.Start;
            }
            else
            {
                buffer.Append(sql.AsSpan(run.Start, run.Length));
                run.Length = 0;
                if (token.SpaceBefore && buffer.Length > 0)
                {
                    buffer.Append(' ');
                }

                if (verbatim)
                {
                    run = (token.Start, token.Length);
                }
                else if (literal)
                {
                    buffer.Append('?');
                }
                else
                {
                    buffer.Append(')');
                    buffer.CollapseLiteralList();
                }
            }

            previousEnd = token.End;
            previousWasLiteral = literal;
        }

        buffer.Append(sql.AsSpan(run.Start, run.Length));
        return buffer.ToString(maxLength);
    }

    /// <summary>
    /// Reads, token by token, the verb (the first of <see cref="Verbs"/> outside parentheses, else the first word)
    /// and the table after <c>UPDATE</c>, <c>COPY</c>, <c>TRUNCATE</c>, or after the <c>FROM</c> of a SELECT or
    /// DELETE and the <c>INTO</c> of an INSERT or MERGE: adjacent words, quoted identifiers (unquoted) and dots;
    /// none when a subquery or a literal comes instead. ONLY (TABLE after TRUNCATE) is passed over once.
    /// </summary>
    private struct ShapeReader
    {
        private State _state;
        private int _depth;
        private string? _verb;
        private (int Start, int Length) _first;
        private string? _skipWord;
        private (int Start, int End) _name;
        private bool _quoted;
        private string? _table;

        private enum State
        {
            Verb,
            Name,
            Done,
        }

        /// <summary>Reads a whole text (a statement already normalized).</summary>
        public static (string? Verb, string? Table) Read(string statement)
        {
            var reader = default(ShapeReader);
            var lexer = new SqlLexer(statement);
            while (reader._state != State.Done && lexer.Next(out var token))
            {
                reader.Read(token, statement);
            }

            return reader.Finish(statement);
        }

        /// <summary>Takes the next token of <paramref name="text"/>.</summary>
        public void Read(SqlLexeme token, ReadOnlySpan<char> text)
        {
            if (_state == State.Name)
            {
                ReadName(token, text);
                return;
            }

            if (_state == State.Done)
            {
                return;
            }

            if (token.Kind == SqlTokenKind.OpenParen)
            {
                _depth++;
                return;
            }

            if (token.Kind == SqlTokenKind.CloseParen)
            {
                _depth = Math.Max(0, _depth - 1);
                return;
            }

            if (token.Kind != SqlTokenKind.Word || _depth > 0)
            {
                return;
            }

            var word = text.Slice(token.Start, token.Length);
            if (_first.Length == 0)
            {
                _first = (token.Start, token.Length);
            }

            if (_verb is null)
            {
                foreach (var candidate in Verbs)
                {
                    if (word.Equals(candidate, StringComparison.OrdinalIgnoreCase))
                    {
                        _verb = candidate;
                        break;
                    }
                }

                if (_verb is "UPDATE" or "COPY" or "TRUNCATE")
                {
                    StartName(_verb == "TRUNCATE" ? "TABLE" : "ONLY");
                }
            }
            else if ((_verb is "SELECT" or "DELETE" && word.Equals("FROM", StringComparison.OrdinalIgnoreCase))
                || (_verb is "INSERT" or "MERGE" && word.Equals("INTO", StringComparison.OrdinalIgnoreCase)))
            {
                StartName("ONLY");
            }
        }

        public readonly (string? Verb, string? Table) Finish(ReadOnlySpan<char> text)
        {
            var table = _table;
            if (_state == State.Name && _name.End > 0)
            {
                var copy = this;
                copy.EndName(text);
                table = copy._table;
            }

            return (_verb ?? (_first.Length == 0 ? null : text.Slice(_first.Start, _first.Length).ToString().ToUpperInvariant()), table);
        }

        private void StartName(string skipWord)
        {
            _state = State.Name;
            _skipWord = skipWord;
        }

        private void ReadName(SqlLexeme token, ReadOnlySpan<char> text)
        {
            var part = token.Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier or SqlTokenKind.Dot;
            if (_name.End > 0)
            {
                if (part && !token.SpaceBefore)
                {
                    _name.End = token.End;
                    _quoted |= token.Kind == SqlTokenKind.QuotedIdentifier;
                    return;
                }

                if (EndName(text))
                {
                    return;
                }
            }

            if (!part)
            {
                // A subquery or a literal, not a table.
                _state = State.Done;
                return;
            }

            _name = (token.Start, token.End);
            _quoted = token.Kind == SqlTokenKind.QuotedIdentifier;
        }

        /// <summary>Ends the name read so far: true when it is the table, false when it was the word to pass over.</summary>
        private bool EndName(ReadOnlySpan<char> text)
        {
            var name = text[_name.Start.._name.End];
            if (_quoted)
            {
                name = Unquote(name);
            }

            _name = default;
            if (_skipWord is not null && name.Equals(_skipWord, StringComparison.OrdinalIgnoreCase))
            {
                _skipWord = null;
                return false;
            }

            _table = name.ToString();
            _state = State.Done;
            return true;
        }
    }

    /// <summary>A name with its quoted parts' quotes (and <c>U&amp;</c> prefixes) taken off: <c>"public"."Clients"</c> is <c>public.Clients</c>.</summary>
    private static ReadOnlySpan<char> Unquote(ReadOnlySpan<char> name)
    {
        var unquoted = new char[name.Length];
        var length = 0;
        var parts = new SqlLexer(name);
        while (parts.Next(out var part))
        {
            var text = name.Slice(part.Start, part.Length);
            if (part.Kind == SqlTokenKind.QuotedIdentifier)
            {
                text = text[(text.IndexOf('"') + 1)..];
                text = part.Unterminated ? text : text[..^1];
            }

            text.CopyTo(unquoted.AsSpan(length));
            length += text.Length;
        }

        return unquoted.AsSpan(0, length);
    }
}
