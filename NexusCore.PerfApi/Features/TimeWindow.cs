namespace NexusCore.PerfApi.Features;

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

    /// <summary>The names of <see cref="All"/>, as a request's <c>window</c> takes them.</summary>
    public static readonly IReadOnlyList<string> Names = [.. All.Select(w => w.Name)];

    /// <summary>The names of <see cref="WithHistory"/>.</summary>
    public static readonly IReadOnlyList<string> NamesWithHistory = [.. WithHistory.Select(w => w.Name)];

    /// <summary>The window named <paramref name="name"/>; a validated request names one of <see cref="WithHistory"/>.</summary>
    public static TimeWindow Named(string name) => WithHistory.Single(w => w.Name == name);
}
