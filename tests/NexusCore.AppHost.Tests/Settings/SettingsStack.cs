using System.Globalization;

namespace NexusCore.AppHost.Tests.Settings;

/// <summary>
/// One stack started with every seed setting README lists changed at once from its default (one boot for all:
/// a boot per setting would take minutes), as a user sets them: AppHost arguments the AppHost forwards.
/// <c>CACHE_TTL_ANALYTICS</c> alone keeps its default, so that analytics shows <c>CACHE_DEFAULT_TTL</c>, which
/// applies only to a type whose own TTL is not set.
/// </summary>
public sealed class SettingsStack : StackFixture
{
    public const string Origin = "https://settings.nexuscore.test";

    /// <summary>Each changed setting and its value (every default is in README's seed-settings table).</summary>
    public static readonly IReadOnlyDictionary<string, string> Changed = new Dictionary<string, string>
    {
        ["DB_POOL_SIZE"] = "7",
        ["DB_WRITE_POOL_SIZE"] = "3",
        ["DB_LOOKUP_POOL_SIZE"] = "4",
        ["DB_BULK_LOOKUP_CONCURRENCY"] = "1",
        ["DB_AUTO_PREPARE"] = "8",
        ["DB_CONNECTION_TIMEOUT"] = "1",
        ["DB_COMMAND_TIMEOUT"] = "4",
        ["DB_MAX_RETRIES"] = "1",
        ["DB_RETRY_DELAY"] = "50",
        ["CACHE_TTL_COUNT"] = "3",
        ["CACHE_TTL_FIND"] = "4",
        ["CACHE_TTL_SEARCH"] = "5",
        ["CACHE_DEFAULT_TTL"] = "6",
        // Off, so that steady reads cannot keep an entry alive past its TTL: each TTL below is seen to expire.
        ["CACHE_EAGER_REFRESH"] = "0",
        ["PERFORMANCE_MONITORING"] = "false",
        ["SLOW_QUERY_THRESHOLD"] = "0.25",
        ["CORS_ALLOWED_ORIGINS"] = Origin,
    };

    public static int Int(string setting) => int.Parse(Changed[setting], CultureInfo.InvariantCulture);

    protected override IEnumerable<string> ExtraArgs => Changed.SelectMany(s => new[] { "--" + s.Key, s.Value });

    // The contract recorder checks the default stack's answers; this one answers with other settings.
    protected override bool ChecksContract => false;
}

[CollectionDefinition(Name)]
public sealed class SettingsCollection : ICollectionFixture<SettingsStack>
{
    public const string Name = "settings";
}
