using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace NexusCore.ClientsApi.Features.Clients.Query;

/// <summary>
/// Builds the WHERE and ORDER BY of list, search and export from a validated query. Only fixed SQL
/// fragments are concatenated; every value travels as a positional parameter.
/// </summary>
internal sealed class ClientQuerySql
{
    private readonly StringBuilder _where = new();

    public List<NpgsqlParameter> Parameters { get; } = [];

    public string Where => _where.Length == 0 ? "" : " WHERE " + _where;

    public static ClientQuerySql ForFilter(ClientFilter filter)
    {
        var sql = new ClientQuerySql();
        if (filter.Statuses.Count > 0)
        {
            sql.And($"status = ANY({sql.Add(filter.Statuses.ToArray())})");
        }

        if (filter.ProgramTypes.Count > 0)
        {
            sql.And($"program_type = ANY({sql.Add(filter.ProgramTypes.ToArray())})");
        }

        if (filter.CreatedFrom is { } createdFrom)
        {
            sql.And($"created_at >= {sql.Add(createdFrom)}");
        }

        if (filter.CreatedTo is { } createdTo)
        {
            sql.And($"created_at < {sql.Add(createdTo)}");
        }

        if (filter.UpdatedFrom is { } updatedFrom)
        {
            sql.And($"updated_at >= {sql.Add(updatedFrom)}");
        }

        if (filter.UpdatedTo is { } updatedTo)
        {
            sql.And($"updated_at < {sql.Add(updatedTo)}");
        }

        if (filter.Q is { } q)
        {
            sql.And(TextMatch(sql, q));
        }

        return sql;
    }

    /// <summary>
    /// Whole words through the full-text index; when the input holds three letters or digits in a row,
    /// also any substring of the name or email through the trigram index. Shorter input matches word
    /// prefixes. A substring pattern without such a run gives the trigram index nothing to look up: it
    /// would read every row (seconds at a million clients), so such input matches whole words only.
    /// </summary>
    private static string TextMatch(ClientQuerySql sql, string q)
    {
        if (q.Length >= 3 && q.Any(char.IsLetterOrDigit))
        {
            var words = sql.Add(q);
            if (LongestLetterOrDigitRun(q) < 3)
            {
                return $"search_vector @@ websearch_to_tsquery('simple', {words})";
            }

            var pattern = sql.Add("%" + EscapeLike(q.ToLowerInvariant()) + "%");
            return $"(search_vector @@ websearch_to_tsquery('simple', {words}) OR lower(name || ' ' || email) LIKE {pattern})";
        }

        // tsquery syntax is not user input: keep letters and digits only, then match as a prefix.
        var token = new string(q.Where(char.IsLetterOrDigit).ToArray()).ToLowerInvariant();
        return token.Length == 0
            ? "false"
            : $"search_vector @@ to_tsquery('simple', {sql.Add(token + ":*")})";
    }

    private static int LongestLetterOrDigitRun(string text)
    {
        int longest = 0, run = 0;
        foreach (var c in text)
        {
            run = char.IsLetterOrDigit(c) ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        return longest;
    }

    private static string EscapeLike(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal)
            .Replace("%", "\\%", StringComparison.Ordinal)
            .Replace("_", "\\_", StringComparison.Ordinal);

    public static string SortKey(SortField sort) => sort switch
    {
        SortField.CreatedAt => "created_at",
        SortField.UpdatedAt => "updated_at",
        SortField.Name => "lower(name)",
        _ => "id",
    };

    /// <summary>Adds the keyset condition that continues after <paramref name="cursor"/>.</summary>
    public void After(SortField sort, bool descending, Cursor cursor)
    {
        var op = descending ? "<" : ">";
        var id = Add(cursor.Id);
        switch (sort)
        {
            case SortField.Id:
                And($"id {op} {id}");
                break;
            case SortField.Name:
                And($"(lower(name), id) {op} (lower({Add(cursor.Key)}), {id})");
                break;
            default:
                var ticks = long.Parse(cursor.Key, System.Globalization.CultureInfo.InvariantCulture);
                And($"({SortKey(sort)}, id) {op} ({Add(new DateTime(ticks, DateTimeKind.Utc))}, {id})");
                break;
        }
    }

    public static string OrderBy(SortField sort, bool descending)
    {
        var direction = descending ? " DESC" : "";
        return sort == SortField.Id
            ? $" ORDER BY id{direction}"
            : $" ORDER BY {SortKey(sort)}{direction}, id{direction}";
    }

    public void And(string condition)
    {
        if (_where.Length > 0)
        {
            _where.Append(" AND ");
        }

        _where.Append(condition);
    }

    public string Add<T>(T value)
    {
        Parameters.Add(value switch
        {
            DateTime dt => new NpgsqlParameter<DateTime> { TypedValue = dt, NpgsqlDbType = NpgsqlDbType.TimestampTz },
            _ => new NpgsqlParameter<T> { TypedValue = value },
        });
        return "$" + Parameters.Count;
    }

    /// <summary>A fresh copy of the parameters, for a second command in the same batch.</summary>
    public IEnumerable<NpgsqlParameter> CloneParameters() => Parameters.Select(p => p.Clone());
}
