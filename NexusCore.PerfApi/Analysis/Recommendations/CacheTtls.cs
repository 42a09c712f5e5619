using System.Globalization;

namespace NexusCore.PerfApi.Analysis.Recommendations;

/// <summary>
/// ClientsApi's cache TTL per query type as the seed names the settings (<c>CACHE_TTL_COUNT</c>,
/// <c>CACHE_TTL_FIND</c>, <c>CACHE_TTL_SEARCH</c>, <c>CACHE_TTL_ANALYTICS</c>, else <c>CACHE_DEFAULT_TTL</c>),
/// read from the same seed settings the AppHost forwards to both APIs, with ClientsApi's defaults.
/// </summary>
public sealed class CacheTtls(IConfiguration configuration)
{
    public const string DefaultKey = "CACHE_DEFAULT_TTL";
    public const int MaxSeconds = 86_400;

    private static readonly Dictionary<string, int> Defaults = new(StringComparer.OrdinalIgnoreCase)
    {
        ["count"] = 60,
        ["find"] = 300,
        ["search"] = 180,
        ["analytics"] = 300,
    };

    private const int DefaultSeconds = 300;

    /// <summary>The setting that governs <paramref name="queryType"/>'s TTL, and its value in seconds.</summary>
    public (string Key, int Seconds) For(string queryType)
    {
        if (Defaults.TryGetValue(queryType, out var typeDefault))
        {
            var key = $"CACHE_TTL_{queryType.ToUpperInvariant()}";
            return (key, Read(key) ?? typeDefault);
        }

        return (DefaultKey, Read(DefaultKey) ?? DefaultSeconds);
    }

    private int? Read(string key) =>
        int.TryParse(configuration[key], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds is > 0 and <= MaxSeconds
            ? seconds
            : null;
}
