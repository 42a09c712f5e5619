using System.Globalization;
using FluentValidation;

namespace NexusCore.ClientsApi.Features.Clients.Query;

/// <summary>The order of a page: <c>asc</c> or <c>desc</c>.</summary>
public enum SortOrder
{
    Asc,
    Desc,
}

/// <summary>
/// The rules of the query parameters list, search and export share (their request models bind the values;
/// these check them), and the conversion of checked values into a <see cref="ClientFilter"/> or page query.
/// </summary>
public static class ClientQueryRules
{
    public const int QMaxLength = 100;

    /// <summary>
    /// Earliest year a date may name, here and in analytics: older dates hold no client, and defaults and
    /// period arithmetic stay inside the calendar.
    /// </summary>
    public const int MinYear = 1900;

    public const string DateDescription =
        "An ISO 8601 date (2025-03-31) or date-time (2025-03-31T12:00:00Z; no offset means UTC) in the years 1900 to 9999.";

    /// <summary>
    /// A list is its parameter repeated (<c>status=a&amp;status=b</c>), OpenAPI's default form for a query array and what
    /// generated clients send. <c>status=a,b</c> is one value, documented as invalid, so it is refused rather than split.
    /// </summary>
    public static IEnumerable<string> Items(string[]? values) => values ?? [];

    public static IRuleBuilderOptions<T, string[]?> StatusValues<T>(this IRuleBuilder<T, string[]?> rule) => rule
        .Must(values => Items(values).All(v => ClientRules.NormalizeStatus(v) is not null))
        .WithMessage($"status values must be among: {ClientRules.StatusList} (exactly so; repeat the parameter for several: status=active&status=pending).").WithErrorCode("status_unknown");

    public static IRuleBuilderOptions<T, string[]?> ProgramTypeValues<T>(this IRuleBuilder<T, string[]?> rule) => rule
        .Must(values => Items(values).All(v => ClientRules.NormalizeProgramType(v) is not null))
        .WithMessage($"programType values must be among: {ClientRules.ProgramTypeList} (exactly so; repeat the parameter for several).").WithErrorCode("program_type_unknown");

    public static IRuleBuilderOptions<T, int?> PageLimit<T>(this IRuleBuilder<T, int?> rule) => rule
        .InclusiveBetween(1, ClientPageQuery.MaxLimit)
        .WithMessage($"limit must be a whole number from 1 to {ClientPageQuery.MaxLimit}.").WithErrorCode("limit_out_of_range");

    public static IRuleBuilderOptions<T, string?> Instant<T>(this IRuleBuilder<T, string?> rule, string name) => rule
        .Must(text => text is null || ReadInstant(text, endOfDay: false) is not null)
        .WithMessage($"{name} must be an ISO 8601 date (2025-03-31) or date-time (2025-03-31T12:00:00Z) in the years {MinYear} to 9999.")
        .WithErrorCode("date_invalid");

    public static IRuleBuilderOptions<T, string?> SearchText<T>(this IRuleBuilder<T, string?> rule) => rule
        .MaximumLength(QMaxLength).WithMessage($"q must be at most {QMaxLength} characters.").WithErrorCode("q_too_long")
        .Must(ClientRules.HasNoControlCharacters).WithMessage("q must not contain control characters.").WithErrorCode("q_invalid");

    /// <summary><paramref name="from"/> before <paramref name="to"/>, when both are valid instants (a bare date as <c>to</c> meaning its end).</summary>
    public static bool IsRange(string? from, string? to) =>
        ReadInstant(from, endOfDay: false) is not { } f || ReadInstant(to, endOfDay: true) is not { } t || f < t;

    /// <summary>The filter of checked values.</summary>
    public static ClientFilter Filter(
        string[]? status, string[]? programType,
        string? createdFrom = null, string? createdTo = null, string? updatedFrom = null, string? updatedTo = null, string? q = null)
    {
        var text = q?.Trim();
        return new ClientFilter(
            [.. Items(status).Select(v => ClientRules.NormalizeStatus(v)!).Distinct().Order(StringComparer.Ordinal)],
            [.. Items(programType).Select(v => ClientRules.NormalizeProgramType(v)!).Distinct().Order(StringComparer.Ordinal)],
            ReadInstant(createdFrom, endOfDay: false),
            ReadInstant(createdTo, endOfDay: true),
            ReadInstant(updatedFrom, endOfDay: false),
            ReadInstant(updatedTo, endOfDay: true),
            string.IsNullOrEmpty(text) ? null : text);
    }

    /// <summary>
    /// The page query of checked values, or null when the cursor is not one of this query's
    /// (<paramref name="cursorError"/> says why). Dates and times sort newest first unless <c>order</c> says otherwise.
    /// </summary>
    public static ClientPageQuery? Page(
        ClientFilter filter, SortField? sort, SortOrder? order, int? limit, CountMode? count, string? cursor,
        CursorProtector cursors, out string? cursorError)
    {
        cursorError = null;
        var field = sort ?? SortField.CreatedAt;
        var descending = order is { } o ? o == SortOrder.Desc : field is SortField.CreatedAt or SortField.UpdatedAt;
        Cursor? after = null;
        if (cursor is not null)
        {
            after = Cursor.TryRead(cursors, cursor, field, descending, filter, out cursorError);
            if (after is null)
            {
                return null;
            }
        }

        return new ClientPageQuery(filter, field, descending, limit ?? ClientPageQuery.DefaultLimit, after, count ?? CountMode.None);
    }

    /// <summary>
    /// ISO 8601 dates or date-times; no offset means UTC. A bare date as an upper bound means the end of
    /// that day, so <c>createdTo=2025-03-31</c> includes the 31st. Ranges are half-open: from ≤ t &lt; to.
    /// Null when absent or not such a value.
    /// </summary>
    public static DateTime? ReadInstant(string? text, bool endOfDay)
    {
        if (text is null)
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

        return null;
    }
}
