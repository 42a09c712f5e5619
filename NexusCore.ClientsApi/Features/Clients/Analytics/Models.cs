using System.Globalization;
using Microsoft.Extensions.Primitives;
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

    public static AnalyticsQuery? Parse(IEnumerable<KeyValuePair<string, StringValues>> query, DateOnly today, List<QueryError> errors)
    {
        string? from = null, to = null, granularity = null;
        foreach (var (name, value) in query)
        {
            if (value.Count > 1)
            {
                errors.Add(new(name, $"{name} may be given once.", "duplicate_parameter"));
                continue;
            }

            switch (name)
            {
                case "from": from = value[0]; break;
                case "to": to = value[0]; break;
                case "granularity": granularity = value[0]; break;
                default:
                    errors.Add(new(name, $"'{name}' is not a known parameter. Known: from, to, granularity.", "unknown_parameter"));
                    break;
            }
        }

        var toDate = ReadDate("to", to, today, errors);
        var fromDate = ReadDate("from", from, toDate.AddDays(-(DefaultDays - 1)), errors);
        var bucket = granularity switch
        {
            null or "day" => Granularity.Day,
            "week" => Granularity.Week,
            "month" => Granularity.Month,
            _ => (Granularity?)null,
        };
        if (bucket is null)
        {
            errors.Add(new("granularity", "granularity must be day, week or month.", "granularity_unknown"));
        }

        if (errors.Count > 0)
        {
            return null;
        }

        if (fromDate > toDate)
        {
            errors.Add(new("from", "from must not be after to.", "range_invalid"));
            return null;
        }

        var result = new AnalyticsQuery(fromDate, toDate, bucket!.Value);
        if (result.Periods().Count > MaxPeriods)
        {
            errors.Add(new("from", $"The range holds more than {MaxPeriods} {bucket.Value.ToString().ToLowerInvariant()}s; use a shorter range or a coarser granularity.", "range_too_long"));
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

    private static DateOnly ReadDate(string name, string? text, DateOnly fallback, List<QueryError> errors)
    {
        if (text is null)
        {
            return fallback;
        }

        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            && date.Year >= ClientQueryParser.MinYear)
        {
            return date;
        }

        errors.Add(new(name, $"{name} must be a date in the form 2025-03-31, in the years {ClientQueryParser.MinYear} to 9999.", "date_invalid"));
        return fallback;
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
