namespace NexusCore.PerfApi.Sql;

/// <summary>
/// Where normalization and match keys write their text: a fixed span (on the stack or rented) that never grows.
/// Both outputs are never longer than the SQL they come from, so a span of that length (or of the cut, when
/// shorter) holds them; a write past the end is dropped rather than thrown.
/// </summary>
internal ref struct SqlTextBuffer(Span<char> chars)
{
    private readonly Span<char> _chars = chars;

    public int Length { get; private set; }

    public readonly char Last => Length > 0 ? _chars[Length - 1] : '\0';

    public readonly ReadOnlySpan<char> Written => _chars[..Length];

    public readonly char this[int index] => _chars[index];

    public void Append(char c)
    {
        if (Length < _chars.Length)
        {
            _chars[Length++] = c;
        }
    }

    public void Append(ReadOnlySpan<char> text)
    {
        var count = Math.Min(text.Length, _chars.Length - Length);
        text[..count].CopyTo(_chars[Length..]);
        Length += count;
    }

    /// <summary>Appends <paramref name="text"/> in lower case, character by character (as <see cref="char.ToLowerInvariant"/>).</summary>
    public void AppendLower(ReadOnlySpan<char> text)
    {
        var count = Math.Min(text.Length, _chars.Length - Length);
        for (var i = 0; i < count; i++)
        {
            _chars[Length + i] = char.ToLowerInvariant(text[i]);
        }

        Length += count;
    }

    public void RemoveLast() => Length--;

    /// <summary>
    /// Called right after a <c>)</c> was written: a list of placeholders that it closes (<c>(?, ?, ?)</c>, spaces
    /// allowed) becomes <c>(?)</c>, and a <c>(?)</c> that follows another one and a comma (<c>(?), (?)</c>: the rows
    /// of a VALUES list) is folded into it. So <c>IN (1, 2, 3)</c> and <c>VALUES (1, 'a'), (2, 'b')</c> each have
    /// one shape whatever their length.
    /// </summary>
    public void CollapseLiteralList()
    {
        var i = SkipSpaces(Length - 2);
        if (i >= 0 && _chars[i] == '?')
        {
            var commas = 0;
            while (true)
            {
                i = SkipSpaces(i - 1);
                if (i >= 0 && _chars[i] == ',')
                {
                    i = SkipSpaces(i - 1);
                    if (i < 0 || _chars[i] != '?')
                    {
                        break;
                    }

                    commas++;
                }
                else
                {
                    if (i >= 0 && _chars[i] == '(' && commas > 0)
                    {
                        Length = i;
                        Append("(?)");
                    }

                    break;
                }
            }
        }

        if (!EndsWithGroup(Length))
        {
            return;
        }

        var comma = SkipSpaces(Length - 4);
        if (comma >= 0 && _chars[comma] == ',')
        {
            var previous = SkipSpaces(comma - 1) + 1;
            if (EndsWithGroup(previous))
            {
                Length = previous;
            }
        }
    }

    public readonly string ToString(int maxLength) =>
        Length > maxLength ? string.Concat(_chars[..maxLength], "…") : new string(_chars[..Length]);

    public override readonly string ToString() => new(Written);

    private readonly bool EndsWithGroup(int end) => end >= 3 && _chars[end - 3] == '(' && _chars[end - 2] == '?' && _chars[end - 1] == ')';

    private readonly int SkipSpaces(int i)
    {
        while (i >= 0 && _chars[i] == ' ')
        {
            i--;
        }

        return i;
    }
}
