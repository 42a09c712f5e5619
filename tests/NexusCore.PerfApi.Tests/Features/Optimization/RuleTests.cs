using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NexusCore.PerfApi.Analysis.Alerts;
using NexusCore.PerfApi.Analysis.Recommendations;
using NexusCore.PerfApi.Tests.Performance;

namespace NexusCore.PerfApi.Tests.Features.Optimization;

/// <summary>Each rule fires on telemetry built to trigger it and stays silent on telemetry just short of it.</summary>
[NoStack]
public sealed class RuleTests
{
    private const string SlowSql = "SELECT id, name FROM clients WHERE name ILIKE $1 ORDER BY created_at DESC LIMIT 51";

    [Fact]
    public async Task SlowQueriesFireWithTheirCountAndTheSlowestRun()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.Sql(SlowSql, [1500, 1200, 1100, 200]);
        telemetry.Sql("SELECT count(*) FROM clients WHERE status = 'active'", [1000.5]);
        telemetry.Sql("SELECT 1", [3, 4]);

        var advice = Assert.Single(await EvaluateAsync(new SlowQueryRule(), telemetry));

        Assert.Equal(("slow_queries", RecommendationCategory.Query, RecommendationPriority.Medium), (advice.Rule, advice.Category, advice.Priority));
        Assert.Equal("2 queries over 1 s, consider adding indexes", advice.Title);
        Assert.Equal(2, advice.Evidence["slowStatements"]);
        Assert.Equal(4, advice.Evidence["slowRuns"]);
        Assert.Equal(5, advice.Evidence["runsInWindow"]);
        Assert.Equal(1500, advice.Evidence["slowestMaxMs"]);
        Assert.Equal(1000, advice.Evidence["slowestMeanMs"]);
        Assert.Equal(1, advice.Evidence["thresholdSeconds"]);
        Assert.Contains("ILIKE $1", advice.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASlowQueryPastTheAlertThresholdIsHighPriority()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.Sql(SlowSql, [2100]);

        var advice = Assert.Single(await EvaluateAsync(new SlowQueryRule(), telemetry));

        Assert.Equal(RecommendationPriority.High, advice.Priority);
        Assert.Equal("1 query over 1 s, consider adding indexes", advice.Title);
    }

    [Fact]
    public async Task QueriesUnderTheThresholdOrOutsideTheWindowGiveNoSlowQueryAdvice()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.Sql(SlowSql, [5000]);
        telemetry.Clock.Advance(TimeSpan.FromMinutes(20));
        telemetry.Sql(SlowSql, [999, 10]);

        Assert.Empty(await EvaluateAsync(new SlowQueryRule(), telemetry));
    }

    [Fact]
    public async Task ALowHitRateSuggestsTwiceTheQueryTypesTtlByItsSettingName()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.Lookups("find", hits: 10, misses: 15);
        telemetry.Lookups("search", hits: 20, misses: 5);
        telemetry.Lookups("count", hits: 0, misses: 19);
        ClientsApiReportsItsDefaultTtls(telemetry);

        var advice = Assert.Single(await EvaluateAsync(new CacheHitRateRule(), telemetry));

        Assert.Equal(("cache_hit_rate", RecommendationCategory.Cache, RecommendationPriority.High), (advice.Rule, advice.Category, advice.Priority));
        Assert.Equal("Cache hit rate of find reads is 40 %", advice.Title);
        Assert.Equal("CACHE_TTL_FIND=600", advice.Action);
        Assert.Equal(40, advice.Evidence["hitRatePercent"]);
        Assert.Equal((10.0, 15.0, 300.0, 600.0, 75.0), (advice.Evidence["hits"], advice.Evidence["misses"], advice.Evidence["currentTtlSeconds"], advice.Evidence["suggestedTtlSeconds"], advice.Evidence["targetPercent"]));
    }

    [Fact]
    public async Task TheTtlInForceIsTheOneClientsApiReportsAndAHitRateAboveTheAlertIsMediumPriority()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.Lookups("search", hits: 12, misses: 8);
        telemetry.Lookups("export", hits: 0, misses: 20);
        telemetry.CacheTtl("search", 100);

        var advice = await EvaluateAsync(new CacheHitRateRule(), telemetry);

        // Exports are not cached: no TTL governs them, so no TTL is advised (it once advised CACHE_DEFAULT_TTL, which
        // changes nothing for them).
        Assert.DoesNotContain(advice, a => a.Title.Contains("export", StringComparison.Ordinal));
        var search = Assert.Single(advice, a => a.Title.Contains("search", StringComparison.Ordinal));
        Assert.Equal(("CACHE_TTL_SEARCH=200", RecommendationPriority.Medium), (search.Action, search.Priority));
        Assert.Equal(100, search.Evidence["currentTtlSeconds"]);
    }

    [Fact]
    public async Task AHitRateCountedFromTheCacheCountersAlsoFires()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.CacheCounters("analytics", hits: 5, misses: 45);
        ClientsApiReportsItsDefaultTtls(telemetry);

        var advice = Assert.Single(await EvaluateAsync(new CacheHitRateRule(), telemetry));

        Assert.Equal("CACHE_TTL_ANALYTICS=600", advice.Action);
        Assert.Equal(10, advice.Evidence["hitRatePercent"]);
    }

    [Fact]
    public async Task HitRatesAtTheTargetOrWithTooFewLookupsGiveNoCacheAdvice()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.Lookups("find", hits: 15, misses: 5);
        telemetry.Lookups("count", hits: 0, misses: 19);
        ClientsApiReportsItsDefaultTtls(telemetry);

        Assert.Empty(await EvaluateAsync(new CacheHitRateRule(), telemetry));
    }

    [Fact]
    public async Task APoolWhosePeakWentAboveTheThresholdGetsABiggerPoolSize()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.Pool(used: 8, idle: 2, max: 10, at: telemetry.Now.AddMinutes(-3));
        telemetry.Pool(used: 1, idle: 9, max: 10);
        telemetry.Pool(used: 20, idle: 0, max: 20, service: "other-api");

        var advice = await EvaluateAsync(new PoolSaturationRule(), telemetry);

        Assert.Equal(2, advice.Count);
        var clients = Assert.Single(advice, a => a.Title.Contains("clients-api", StringComparison.Ordinal));
        Assert.Equal((RecommendationCategory.ConnectionPool, RecommendationPriority.Medium, "DB_POOL_SIZE=15"), (clients.Category, clients.Priority, clients.Action));
        Assert.Equal((80.0, 8.0, 1.0, 10.0), (clients.Evidence["peakUtilizationPercent"], clients.Evidence["peakActive"], clients.Evidence["active"], clients.Evidence["max"]));
        var other = Assert.Single(advice, a => a.Title.Contains("other-api", StringComparison.Ordinal));
        Assert.Equal((RecommendationPriority.High, "DB_POOL_SIZE=30"), (other.Priority, other.Action));
    }

    [Fact]
    public async Task ClientsApisWritePoolIsSizedByItsOwnSetting()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.Pool(used: 10, idle: 0, max: 10, pool: "clientsdb-writes");
        telemetry.Pool(used: 1, idle: 49, max: 50);
        ClientsApiReportsItsPoolSettings(telemetry);

        var advice = Assert.Single(await EvaluateAsync(new PoolSaturationRule(), telemetry));

        Assert.Equal((RecommendationPriority.High, "DB_WRITE_POOL_SIZE=15"), (advice.Priority, advice.Action));
        Assert.Contains("clientsdb-writes", advice.Title, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientsApisLookupPoolIsSizedByItsOwnSetting()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.Pool(used: 19, idle: 1, max: 20, pool: "clientsdb-lookups");
        telemetry.Pool(used: 1, idle: 9, max: 10, pool: "clientsdb-writes");
        ClientsApiReportsItsPoolSettings(telemetry);

        var advice = Assert.Single(await EvaluateAsync(new PoolSaturationRule(), telemetry));

        Assert.Equal((RecommendationPriority.High, "DB_LOOKUP_POOL_SIZE=30"), (advice.Priority, advice.Action));
        Assert.Contains("clientsdb-lookups", advice.Title, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APoolThatStayedAtOrBelowTheThresholdGivesNoPoolAdvice()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.Pool(used: 75, idle: 0, max: 100);
        telemetry.Pool(used: 3, idle: 0, max: null, service: "no-max-reported");

        Assert.Empty(await EvaluateAsync(new PoolSaturationRule(), telemetry));
    }

    [Fact]
    public async Task ACacheAboveTheMemoryThresholdIsReportedPerInstance()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.CacheMemory(entries: 9000, megabytes: 90);
        telemetry.CacheMemory(entries: 12000, megabytes: 120, instance: "instance-2");
        telemetry.CacheMemory(entries: 10, megabytes: 1, instance: "instance-3");

        var advice = await EvaluateAsync(new CacheMemoryRule(), telemetry);

        Assert.Equal(2, advice.Count);
        Assert.Equal((RecommendationCategory.Memory, RecommendationPriority.Medium), (advice[0].Category, advice[0].Priority));
        Assert.Equal((90.0, 9000.0, 80.0), (advice[0].Evidence["sizeMb"], advice[0].Evidence["entries"], advice[0].Evidence["thresholdMb"]));
        Assert.Equal(10.24, advice[0].Evidence["averageEntryKb"], 9);
        Assert.Equal(RecommendationPriority.High, advice[1].Priority);
        Assert.Contains("instance-2", advice[1].Title, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACacheAtOrBelowTheMemoryThresholdGivesNoMemoryAdvice()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.CacheMemory(entries: 9000, megabytes: 80);

        Assert.Empty(await EvaluateAsync(new CacheMemoryRule(), telemetry));
    }

    [Fact]
    public void TheRulesAreRegisteredAsAListThatANewRuleJoins()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(Configuration());
        services.AddRecommendationRules();
        services.AddSingleton<IRecommendationRule, ExtraRule>();

        var rules = services.BuildServiceProvider().GetServices<IRecommendationRule>().Select(r => r.Name);

        Assert.Equal(["slow_queries", "cache_hit_rate", "pool_saturation", "cache_memory", "extra"], rules);
    }

    private static async Task<IReadOnlyList<Recommendation>> EvaluateAsync(IRecommendationRule rule, SyntheticTelemetry telemetry) =>
        await rule.EvaluateAsync(
            new RecommendationContext(telemetry.Reader, TimeSpan.FromMinutes(15), TimeSpan.FromSeconds(1), new RecommendationOptions(), new AlertOptions(), []),
            CancellationToken.None);

    /// <summary>The TTLs ClientsApi reports with its defaults (its own tests check the report against its options).</summary>
    private static void ClientsApiReportsItsDefaultTtls(SyntheticTelemetry telemetry)
    {
        foreach (var (type, seconds) in new[] { ("count", 60), ("find", 300), ("search", 180), ("analytics", 300) })
        {
            telemetry.CacheTtl(type, seconds);
        }
    }

    /// <summary>The settings that size ClientsApi's pools, as it reports them: the names PerfApi's advice uses.</summary>
    private static void ClientsApiReportsItsPoolSettings(SyntheticTelemetry telemetry)
    {
        telemetry.Setting("DB_POOL_SIZE", "Database:PoolSize", 50, pool: "clientsdb");
        telemetry.Setting("DB_LOOKUP_POOL_SIZE", "Database:LookupPoolSize", 20, pool: "clientsdb-lookups");
        telemetry.Setting("DB_WRITE_POOL_SIZE", "Database:WritePoolSize", 10, pool: "clientsdb-writes");
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

    private sealed class ExtraRule : IRecommendationRule
    {
        public string Name => "extra";

        public ValueTask<IReadOnlyList<Recommendation>> EvaluateAsync(RecommendationContext context, CancellationToken ct) =>
            ValueTask.FromResult<IReadOnlyList<Recommendation>>([]);
    }
}
