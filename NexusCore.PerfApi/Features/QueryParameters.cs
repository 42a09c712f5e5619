using System.Globalization;
using FastEndpoints;
using FluentValidation.Results;

namespace NexusCore.PerfApi.Features;

/// <summary>A problem with one query parameter: its name, what is wrong, and a stable code.</summary>
public sealed record QueryError(string Name, string Reason, string Code);

/// <summary>A window the endpoints can be asked for: <c>5m</c>, <c>15m</c> or <c>1h</c> (memory); analytics also <c>24h</c> and <c>7d</c> (history).</summary>
public sealed record TimeWindow(string Name, TimeSpan Span)
{
    public static readonly TimeWindow FiveMinutes = new("5m", TimeSpan.FromMinutes(5));
    public static readonly TimeWindow FifteenMinutes = new("15m", TimeSpan.FromMinutes(15));
    public static readonly TimeWindow OneHour = new("1h", TimeSpan.FromHours(1));

    public static readonly TimeWindow OneDay = new("24h", TimeSpan.FromDays(1));
    public static readonly TimeWindow SevenDays = new("7d", TimeSpan.FromDays(7));

    /// <summary>The windows memory holds.</summary>
    public static readonly IReadOnlyList<TimeWindow> All = [FiveMinutes, FifteenMinutes, OneHour];

    /// <summary>The windows of query figures, which history (Postgres) reaches back to.</summary>
    public static readonly IReadOnlyList<TimeWindow> WithHistory = [.. All, OneDay, SevenDays];
}

/// <summary>
/// Reads a route's query string against an allow-list: an unknown or repeated parameter is an error naming
/// it, never something silently ignored. The typed readers add an error for a value they cannot accept.
/// </summary>
internal sealed class QueryParameters
{
    private readonly IQueryCollection _query;

    public QueryParameters(IQueryCollection query, params string[] known)
    {
        _query = query;
        foreach (var (name, values) in query)
        {
            if (!known.Contains(name, StringComparer.Ordinal))
            {
                Errors.Add(new(name, known.Length == 0
                    ? $"'{name}' is not a known parameter; this route takes none."
                    : $"'{name}' is not a known parameter. Known: {string.Join(", ", known)}.", "unknown_parameter"));
            }
            else if (values.Count > 1)
            {
                Errors.Add(new(name, $"{name} may be given once.", "duplicate_parameter"));
            }
        }
    }

    public List<QueryError> Errors { get; } = [];

    public string? Single(string name) => _query.TryGetValue(name, out var values) && values.Count == 1 ? values[0] : null;

    /// <summary>One of <paramref name="allowed"/> (by default <see cref="TimeWindow.All"/>: <c>5m</c>, <c>15m</c>, <c>1h</c>); <paramref name="fallback"/> when absent.</summary>
    public TimeWindow Window(string name, TimeWindow fallback, IReadOnlyList<TimeWindow>? allowed = null)
    {
        allowed ??= TimeWindow.All;
        if (Single(name) is not { } text)
        {
            return fallback;
        }

        if (allowed.FirstOrDefault(w => w.Name == text) is { } window)
        {
            return window;
        }

        Errors.Add(new(name, $"{name} must be one of: {string.Join(", ", allowed.Select(w => w.Name))}.", "window_unknown"));
        return fallback;
    }

    /// <summary>A number of seconds, 0 or more (at most a day); <paramref name="fallback"/> when absent.</summary>
    public double Seconds(string name, double fallback)
    {
        if (Single(name) is not { } text)
        {
            return fallback;
        }

        if (double.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds)
            && seconds is >= 0 and <= 86_400)
        {
            return seconds;
        }

        Errors.Add(new(name, $"{name} must be a number of seconds from 0 to 86400 (e.g. 0.5).", $"{name}_invalid"));
        return fallback;
    }

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>; <paramref name="fallback"/> when absent.</summary>
    public int Int(string name, int fallback, int min, int max)
    {
        if (Single(name) is not { } text)
        {
            return fallback;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        Errors.Add(new(name, $"{name} must be a whole number from {min} to {max}.", $"{name}_out_of_range"));
        return fallback;
    }
}

internal static class QueryErrorResponses
{
    /// <summary>Answers 400 with one problem error per bad query parameter.</summary>
    public static Task SendQueryErrorsAsync<TRequest, TResponse>(
        this Endpoint<TRequest, TResponse> endpoint, IEnumerable<QueryError> errors, CancellationToken ct)
        where TRequest : notnull
    {
        foreach (var error in errors)
        {
            endpoint.ValidationFailures.Add(new ValidationFailure(error.Name, error.Reason) { ErrorCode = error.Code });
        }

        // FastEndpoints turns the collected failures into its standard 400 problem response.
        ct.ThrowIfCancellationRequested();
        endpoint.ThrowIfAnyErrors(StatusCodes.Status400BadRequest);
        return Task.CompletedTask;
    }
}
