namespace NexusCore.ClientsApi.Tests.Caching;

/// <summary>
/// ClientsApi with two replicas sharing Redis (L2 and backplane), and short TTLs so that fail-safe
/// (serving past the TTL while Postgres is down) can be seen within a test. Its rate limits are turned
/// off with the documented switch (<c>RateLimiting:Enabled=false</c>), which RateLimitsOffTests checks.
/// </summary>
public sealed class ReplicatedStack : StackFixture
{
    public const int ShortTtlSeconds = 2;

    protected override IEnumerable<string> ExtraArgs =>
    [
        "--replicas", "2",
        "--CACHE_TTL_FIND", ShortTtlSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--NexusCore:Services:clients-api:Environment:RateLimiting__Enabled", "false",
    ];
}

[CollectionDefinition(Name)]
public sealed class ReplicatedCollection : ICollectionFixture<ReplicatedStack>
{
    public const string Name = "replicated";
}
