using System.Globalization;

namespace NexusCore.PerfApi.Console;

/// <summary>How the console writes figures: invariant culture, a dash for nothing measured.</summary>
public static class Format
{
    public const string None = "–";

    public static string Number(double? value, string format = "0.##") => value is { } v && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : None;

    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Ms(double? value) => value is null ? None : Number(value) + " ms";

    public static string Percent(double? value) => value is null ? None : Number(value, "0.#") + " %";

    public static string Time(DateTimeOffset? at) => at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC" : None;

    public static string Bytes(double bytes) => bytes >= 1024 * 1024 ? Number(bytes / (1024 * 1024), "0.#") + " MB" : Number(bytes / 1024, "0.#") + " KB";

    /// <summary>The change from <paramref name="previous"/> to <paramref name="now"/> in percent, or null when either is missing or previous is 0.</summary>
    public static double? Change(double? now, double? previous) =>
        now is { } n && previous is { } p && p != 0 ? (n - p) / p * 100 : null;

    public static string Signed(double? change) => change is { } c ? (c >= 0 ? "+" : "−") + Math.Abs(c).ToString("0.#", CultureInfo.InvariantCulture) + " %" : "no change to compute";
}
