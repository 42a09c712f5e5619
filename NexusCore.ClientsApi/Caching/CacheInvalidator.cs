using Microsoft.Extensions.Options;
using ZiggyCreatures.Caching.Fusion;

namespace NexusCore.ClientsApi.Caching;

/// <summary>
/// What each write makes stale, as cache tags: <c>client:{id}</c> (that client's find entry),
/// <c>finds</c> (every find entry), <c>lists</c> (lists, searches, by-ids) and <c>counts</c> (dashboard,
/// analytics). Tag removal reaches every instance through the Redis backplane; with Redis down it
/// still clears this instance at once, and other instances' entries age out within their TTL.
/// </summary>
public sealed partial class CacheInvalidator(IFusionCache cache, IOptionsMonitor<CacheOptions> options, ILogger<CacheInvalidator> logger)
{
    public const string Lists = "lists";
    public const string Counts = "counts";
    public const string Finds = "finds";

    /// <summary>Above this many changed clients, one <c>finds</c> tag replaces per-client tags.</summary>
    public const int PerClientTagLimit = 100;

    public static string Client(long id) => $"client:{id.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>
    /// Invalidates after a committed write: created or deleted clients, or a change of status or program
    /// type, change counts; any write changes lists; changed clients lose their find entries.
    /// </summary>
    public async Task AfterWriteAsync(IReadOnlyCollection<long> changedClients, bool countsChanged)
    {
        if (!options.CurrentValue.Enabled)
        {
            return;
        }

        var tags = new List<string> { Lists };
        if (countsChanged)
        {
            tags.Add(Counts);
        }

        if (changedClients.Count > PerClientTagLimit)
        {
            tags.Add(Finds);
        }
        else
        {
            tags.AddRange(changedClients.Select(Client));
        }

        await RemoveAsync(tags);

        // A read that ran against the old rows while the write committed may have stored them after
        // the removal above; removing again shortly after bounds how long such an entry can live.
        var repeat = options.CurrentValue.InvalidationRepeatMs;
        if (repeat > 0)
        {
            _ = Task.Run(async () =>
            {
                await Task.Delay(repeat);
                await RemoveAsync(tags);
            });
        }
    }

    /// <summary>Clears every entry on every instance (admin).</summary>
    public async Task ClearAllAsync(CancellationToken ct)
    {
        await cache.ClearAsync(allowFailSafe: false, token: ct);
        LogCleared();
    }

    private async Task RemoveAsync(IReadOnlyCollection<string> tags)
    {
        try
        {
            await cache.RemoveByTagAsync(tags);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // FusionCache already isolates Redis failures; anything else must not fail a committed write.
            LogInvalidationFailed(ex, string.Join(",", tags));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Cache cleared on every instance")]
    private partial void LogCleared();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cache invalidation of {Tags} failed")]
    private partial void LogInvalidationFailed(Exception exception, string tags);
}
