namespace NexusCore.ClientsApi.Tests.Caching;

/// <summary>
/// ClientsApi with two replicas sharing Redis (L2 and backplane), and a short find TTL so that fail-safe
/// (serving past the TTL while Postgres is down) and eager refresh (from half the TTL on) can be seen
/// within a test. Its rate limits are turned off with the documented switch
/// (<c>RateLimiting:Enabled=false</c>), which RateLimitsOffTests checks.
/// </summary>
public sealed class ReplicatedStack : StackFixture
{
    /// <summary>The find TTL: fail-safe is seen this soon; eager refresh starts at half of it, a window wide enough to read in on a busy machine.</summary>
    public const int ShortTtlSeconds = 6;

    /// <summary>ClientsApi's tests never call PerfApi.</summary>
    protected override bool RunsPerfApi => false;

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
