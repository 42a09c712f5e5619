using System.ComponentModel;
using FastEndpoints;
using FluentValidation;
using NexusCore.ClientsApi.Features.Clients.Query;

namespace NexusCore.ClientsApi.Features.Clients.Analytics;

public enum Granularity
{
    Day,
    Week,
    Month,
}

/// <summary>UTC days <c>From</c> (inclusive) to <c>To</c> (inclusive), bucketed by <c>Granularity</c>.</summary>
public sealed record AnalyticsQuery(DateOnly From, DateOnly To, Granularity Granularity)
{
    public const int DefaultDays = 30;

    /// <summary>Most periods one response may hold: bounds the work and the payload.</summary>
    public const int MaxPeriods = 1000;

    /// <summary>
    /// The query of a checked request (<paramref name="today"/> and 30 days before it by default), or null with
    /// the error of a range that is reversed or holds more than <see cref="MaxPeriods"/> periods.
    /// </summary>
    public static AnalyticsQuery? Of(Request request, DateOnly today, out FluentValidation.Results.ValidationFailure? error)
    {
        error = null;
        var to = request.To ?? today;
        var from = request.From ?? to.AddDays(-(DefaultDays - 1));
        var granularity = request.Granularity ?? Granularity.Day;
        if (from > to)
        {
            error = new("from", "from must not be after to.") { ErrorCode = "range_invalid" };
            return null;
        }

        var result = new AnalyticsQuery(from, to, granularity);
        if (result.Periods().Count > MaxPeriods)
        {
            error = new("from", $"The range holds more than {MaxPeriods} {granularity.ToString().ToLowerInvariant()}s; use a shorter range or a coarser granularity.")
            {
                ErrorCode = "range_too_long",
            };
            return null;
        }

        return result;
    }

    /// <summary>The start of every period that overlaps the range (weeks start on Monday, ISO 8601).</summary>
    public IReadOnlyList<DateOnly> Periods()
    {
        var periods = new List<DateOnly>();
        for (DateOnly? start = PeriodStart(From); start is { } s && s <= To && periods.Count <= MaxPeriods; start = Next(s))
        {
            periods.Add(s);
        }

        return periods;
    }

    public DateOnly PeriodStart(DateOnly day) => Granularity switch
    {
        Granularity.Week => day.AddDays(-(((int)day.DayOfWeek + 6) % 7)),
        Granularity.Month => new DateOnly(day.Year, day.Month, 1),
        _ => day,
    };

    /// <summary>The next period's start, or null past the calendar's last day (9999-12-31).</summary>
    private DateOnly? Next(DateOnly start) => Granularity switch
    {
        Granularity.Week => start.DayNumber > DateOnly.MaxValue.DayNumber - 7 ? null : start.AddDays(7),
        Granularity.Month => start is { Year: 9999, Month: 12 } ? null : start.AddMonths(1),
        _ => start == DateOnly.MaxValue ? null : start.AddDays(1),
    };
}

public sealed class Request
{
    /// <summary>The first UTC day (inclusive), 1900-01-01 to 9999-12-31; 29 days before to by default.</summary>
    [QueryParam, ParseErrorCode("date_invalid")]
    public DateOnly? From { get; init; }

    /// <summary>The last UTC day (inclusive), 1900-01-01 to 9999-12-31; today by default.</summary>
    [QueryParam, ParseErrorCode("date_invalid")]
    public DateOnly? To { get; init; }

    /// <summary>The period: day (default), week (starting on Monday) or month. A response holds at most 1,000 periods.</summary>
    [QueryParam, ParseErrorCode("granularity_unknown"), DefaultValue("day")]
    public Granularity? Granularity { get; init; }
}

public sealed class Validator : Validator<Request>
{
    private static readonly DateOnly Earliest = new(ClientQueryRules.MinYear, 1, 1);

    public Validator()
    {
        RuleFor(r => r.From).GreaterThanOrEqualTo(Earliest)
            .WithMessage($"from must be a date in the form 2025-03-31, in the years {ClientQueryRules.MinYear} to 9999.").WithErrorCode("date_invalid");
        RuleFor(r => r.To).GreaterThanOrEqualTo(Earliest)
            .WithMessage($"to must be a date in the form 2025-03-31, in the years {ClientQueryRules.MinYear} to 9999.").WithErrorCode("date_invalid");
    }
}

public sealed record Response(
    DateOnly From,
    DateOnly To,
    Granularity Granularity,
    IReadOnlyList<PeriodCounts> NewClients,
    IReadOnlyDictionary<string, long> StatusDistribution,
    IReadOnlyList<ActiveRatePoint> ActiveRateTrend);

/// <summary>Clients created in one period, by their current program type and status.</summary>
public sealed record PeriodCounts(
    DateOnly Period,
    long Total,
    IReadOnlyDictionary<string, long> ByProgramType,
    IReadOnlyDictionary<string, long> ByStatus);

/// <summary>At the end of a period: the share (percent, two decimals) of all clients created so far that are active now.</summary>
public sealed record ActiveRatePoint(DateOnly Period, long TotalClients, decimal ActiveRate);
