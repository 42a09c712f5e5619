using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace NexusCore.ClientsApi.Features.Clients.Query;

/// <summary>A problem with one query parameter: its name, what is wrong, and a stable code.</summary>
public sealed record QueryError(string Name, string Reason, string Code);

/// <summary>
/// Reads list, search and export query strings into validated, normalized queries. Every parameter is
/// allow-listed: an unknown one is an error, not something silently ignored.
/// </summary>
public static class ClientQueryParser
{
    public const int QMaxLength = 100;

    /// <summary>
    /// Earliest year a date may name, here and in analytics: older dates hold no client, and defaults and
    /// period arithmetic stay inside the calendar.
    /// </summary>
    public const int MinYear = 1900;

    public static readonly IReadOnlyList<string> FilterParameters =
        ["status", "programType", "createdFrom", "createdTo", "updatedFrom", "updatedTo", "q"];

    public static readonly IReadOnlyList<string> PageParameters = ["sort", "order", "limit", "cursor", "count"];

    /// <summary>The plain list takes the common filters and paging, without free text, ranges or counts.</summary>
    public static readonly IReadOnlyList<string> ListParameters = ["status", "programType", "sort", "order", "limit", "cursor"];

    private static readonly Dictionary<string, SortField> SortFields = new(StringComparer.Ordinal)
    {
        ["createdAt"] = SortField.CreatedAt,
        ["updatedAt"] = SortField.UpdatedAt,
        ["name"] = SortField.Name,
        ["id"] = SortField.Id,
    };

    /// <summary>Parses filters only (export); any other parameter is an error.</summary>
    public static ClientFilter? ParseFilter(IEnumerable<KeyValuePair<string, StringValues>> query, List<QueryError> errors)
    {
        var values = Collect(query, FilterParameters, errors);
        var filter = ReadFilter(values, errors);
        return errors.Count == 0 ? filter : null;
    }

    /// <summary>Parses filters, order, page size, cursor and count mode (search; list with <see cref="ListParameters"/>).</summary>
    public static ClientPageQuery? ParsePage(
        IEnumerable<KeyValuePair<string, StringValues>> query, CursorProtector cursors, List<QueryError> errors,
        IReadOnlyList<string>? allowed = null)
    {
        var values = Collect(query, allowed ?? [.. FilterParameters, .. PageParameters], errors);
        var filter = ReadFilter(values, errors);

        var sort = SortField.CreatedAt;
        if (Single(values, "sort", errors) is { } sortText && !SortFields.TryGetValue(sortText, out sort))
        {
            errors.Add(new("sort", $"sort must be one of: {string.Join(", ", SortFields.Keys)}.", "sort_unknown"));
        }

        var descending = sort is SortField.CreatedAt or SortField.UpdatedAt;
        switch (Single(values, "order", errors))
        {
            case null: break;
            case "asc": descending = false; break;
            case "desc": descending = true; break;
            default: errors.Add(new("order", "order must be asc or desc.", "order_unknown")); break;
        }

        var limit = ClientPageQuery.DefaultLimit;
        if (Single(values, "limit", errors) is { } limitText
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > ClientPageQuery.MaxLimit))
        {
            errors.Add(new("limit", $"limit must be a whole number from 1 to {ClientPageQuery.MaxLimit}.", "limit_out_of_range"));
        }

        var count = CountMode.None;
        switch (Single(values, "count", errors))
        {
            case null or "none": break;
            case "exact": count = CountMode.Exact; break;
            case "estimated": count = CountMode.Estimated; break;
            default: errors.Add(new("count", "count must be exact, estimated or none.", "count_mode_unknown")); break;
        }

        Cursor? after = null;
        if (Single(values, "cursor", errors) is { } token && errors.Count == 0)
        {
            after = Cursor.TryRead(cursors, token, sort, descending, filter, out var cursorError);
            if (after is null)
            {
                errors.Add(new("cursor", cursorError!, "cursor_invalid"));
            }
        }

        return errors.Count == 0 ? new ClientPageQuery(filter, sort, descending, limit, after, count) : null;
    }

    private static ClientFilter ReadFilter(Dictionary<string, StringValues> values, List<QueryError> errors)
    {
        var statuses = ReadList(values, "status", ClientRules.NormalizeStatus, ClientRules.StatusList, "status_unknown", errors);
        var programs = ReadList(values, "programType", ClientRules.NormalizeProgramType, ClientRules.ProgramTypeList, "program_type_unknown", errors);
        var createdFrom = ReadInstant(values, "createdFrom", endOfDay: false, errors);
        var createdTo = ReadInstant(values, "createdTo", endOfDay: true, errors);
        var updatedFrom = ReadInstant(values, "updatedFrom", endOfDay: false, errors);
        var updatedTo = ReadInstant(values, "updatedTo", endOfDay: true, errors);
        CheckRange("createdFrom", createdFrom, "createdTo", createdTo, errors);
        CheckRange("updatedFrom", updatedFrom, "updatedTo", updatedTo, errors);

        string? q = null;
        if (Single(values, "q", errors) is { } qText)
        {
            q = qText.Trim();
            if (q.Length == 0)
            {
                q = null;
            }
            else if (q.Length > QMaxLength)
            {
                errors.Add(new("q", $"q must be at most {QMaxLength} characters.", "q_too_long"));
            }
            else if (!ClientRules.HasNoControlCharacters(q))
            {
                errors.Add(new("q", "q must not contain control characters.", "q_invalid"));
            }
        }

        return new ClientFilter(statuses, programs, createdFrom, createdTo, updatedFrom, updatedTo, q);
    }

    private static Dictionary<string, StringValues> Collect(
        IEnumerable<KeyValuePair<string, StringValues>> query, IReadOnlyList<string> allowed, List<QueryError> errors)
    {
        var values = new Dictionary<string, StringValues>(StringComparer.Ordinal);
        foreach (var (name, value) in query)
        {
            if (!allowed.Contains(name, StringComparer.Ordinal))
            {
                errors.Add(new(name, $"'{name}' is not a known parameter. Known: {string.Join(", ", allowed)}.", "unknown_parameter"));
                continue;
            }

            values[name] = value;
        }

        return values;
    }

    private static string? Single(Dictionary<string, StringValues> values, string name, List<QueryError> errors)
    {
        if (!values.TryGetValue(name, out var value) || value.Count == 0)
        {
            return null;
        }

        if (value.Count > 1)
        {
            errors.Add(new(name, $"{name} may be given once.", "duplicate_parameter"));
            return null;
        }

        return value[0];
    }

    /// <summary>Lists accept repetition (<c>status=a&amp;status=b</c>) and commas (<c>status=a,b</c>).</summary>
    private static IReadOnlyList<string> ReadList(
        Dictionary<string, StringValues> values, string name, Func<string?, string?> normalize, string allowed, string code, List<QueryError> errors)
    {
        if (!values.TryGetValue(name, out var raw))
        {
            return [];
        }

        var result = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var item in raw.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            if (normalize(item) is { } known)
            {
                result.Add(known);
            }
            else
            {
                errors.Add(new(name, $"{name} values must be among: {allowed}.", code));
                return [];
            }
        }

        return [.. result];
    }

    /// <summary>
    /// ISO 8601 dates or date-times; no offset means UTC. A bare date as an upper bound means the end of
    /// that day, so <c>createdTo=2025-03-31</c> includes the 31st. Ranges are half-open: from ≤ t &lt; to.
    /// </summary>
    private static DateTime? ReadInstant(Dictionary<string, StringValues> values, string name, bool endOfDay, List<QueryError> errors)
    {
        if (Single(values, name, errors) is not { } text)
        {
            return null;
        }

        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            && date.Year >= MinYear)
        {
            var start = date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            // The end of 9999-12-31 is past the last DateTime; its last tick bounds every stored time as well.
            return !endOfDay ? start : date == DateOnly.MaxValue ? DateTime.SpecifyKind(DateTime.MaxValue, DateTimeKind.Utc) : start.AddDays(1);
        }

        if (text.Length >= 16 && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var instant)
            && instant.Year is >= MinYear and <= 9999)
        {
            return instant.UtcDateTime;
        }

        errors.Add(new(name, $"{name} must be an ISO 8601 date (2025-03-31) or date-time (2025-03-31T12:00:00Z) in the years {MinYear} to 9999.", "date_invalid"));
        return null;
    }

    private static void CheckRange(string fromName, DateTime? from, string toName, DateTime? to, List<QueryError> errors)
    {
        if (from is { } f && to is { } t && f >= t)
        {
            errors.Add(new(fromName, $"{fromName} must be before {toName}.", "range_invalid"));
        }
    }
}
