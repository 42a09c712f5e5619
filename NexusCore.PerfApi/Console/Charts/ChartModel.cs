using System.Globalization;

namespace NexusCore.PerfApi.Console.Charts;

/// <summary>One line of a chart: its name and a value per point (null where nothing was measured).</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<double?> Values, string CssClass);

/// <summary>
/// A time chart drawn on the server as SVG: x is time (UTC), y starts at 0 and ends at a round number above the
/// largest value, with the unit on the axis; each point has a <c>&lt;title&gt;</c>, which the browser shows on hover.
/// </summary>
public sealed record ChartModel(string Title, string Unit, IReadOnlyList<DateTimeOffset> Times, IReadOnlyList<ChartSeries> Series)
{
    public const double Width = 720;
    public const double Height = 200;
    public const double Left = 56;
    public const double Right = 12;
    public const double Top = 12;
    public const double Bottom = 28;

    public bool HasData => Series.Any(s => s.Values.Any(v => v is not null));

    /// <summary>The top of the y axis: 1, 2, 2.5 or 5 times a power of ten, at least the largest value.</summary>
    public double YMax
    {
        get
        {
            var max = Series.SelectMany(s => s.Values).Where(v => v is not null).Select(v => v!.Value).DefaultIfEmpty(0).Max();
            if (max <= 0)
            {
                return 1;
            }

            var power = Math.Pow(10, Math.Floor(Math.Log10(max)));
            foreach (var step in new[] { 1, 2, 2.5, 5, 10 })
            {
                if (step * power >= max)
                {
                    return step * power;
                }
            }

            return 10 * power;
        }
    }

    public double X(int index) => Times.Count <= 1 ? Left + (PlotWidth / 2) : Left + (PlotWidth * index / (Times.Count - 1));

    public double Y(double value) => Top + (PlotHeight * (1 - (value / YMax)));

    public double PlotWidth => Width - Left - Right;

    public double PlotHeight => Height - Top - Bottom;

    public static string Number(double value) => value.ToString(value >= 100 ? "0" : value >= 10 ? "0.#" : "0.##", CultureInfo.InvariantCulture);

    public static string Coordinate(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset at, TimeSpan span) =>
        at.UtcDateTime.ToString(span > TimeSpan.FromHours(2) ? "MMM d HH:mm" : "HH:mm", CultureInfo.InvariantCulture);

    /// <summary>The polyline of a series, broken where a point has no value.</summary>
    public IEnumerable<string> Segments(ChartSeries series)
    {
        var current = new List<string>();
        for (var i = 0; i < series.Values.Count && i < Times.Count; i++)
        {
            if (series.Values[i] is { } value)
            {
                current.Add($"{Coordinate(X(i))},{Coordinate(Y(value))}");
            }
            else if (current.Count > 0)
            {
                yield return string.Join(' ', current);
                current.Clear();
            }
        }

        if (current.Count > 0)
        {
            yield return string.Join(' ', current);
        }
    }
}
