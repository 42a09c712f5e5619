using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NexusCore.ClientsApi.Caching;
using NexusCore.ClientsApi.Extensions;

namespace NexusCore.ClientsApi.Tests.Caching;

/// <summary>The cache's settings as ClientsApi's own registration binds and validates them (no stack needed).</summary>
[NoStack]
public sealed class CacheSettingsTests
{
    [Theory]
    [InlineData(null, 0.5)]
    [InlineData("0", 0.0)]
    [InlineData("0.9", 0.9)]
    public void EagerRefreshDefaultsToHalfTheTtlAndCanBeTurnedOff(string? setting, double expected)
    {
        using var services = Build(setting);

        Assert.Equal(expected, services.GetRequiredService<IOptions<CacheOptions>>().Value.EagerRefreshThreshold);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("-0.1")]
    public void AnEagerRefreshThresholdOutsideZeroTo099IsRefused(string setting)
    {
        using var services = Build(setting);

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<CacheOptions>>().Value);
        Assert.Contains(nameof(CacheOptions.EagerRefreshThreshold), error.Message);
    }

    /// <summary>README: <c>CACHE_DEFAULT_TTL</c> is a TTL override; it used to reach no query type at all.</summary>
    [Theory]
    [InlineData(null, null, null, 60, 300, 180, 300)]
    [InlineData("CACHE_DEFAULT_TTL", "42", null, 42, 42, 42, 42)]
    [InlineData("Cache:DefaultTtlSeconds", "43", null, 43, 43, 43, 43)]
    [InlineData("CACHE_DEFAULT_TTL", "42", "CACHE_TTL_FIND", 42, 7, 42, 42)]
    [InlineData("CACHE_DEFAULT_TTL", "42", "Cache:SearchTtlSeconds", 42, 42, 7, 42)]
    public void TheDefaultTtlIsEveryQueryTypesTtlUnlessTheTypeHasItsOwn(string? defaultKey, string? defaultValue, string? ownKey, int count, int find, int search, int analytics)
    {
        var settings = new Dictionary<string, string?>();
        if (defaultKey is not null)
        {
            settings[defaultKey] = defaultValue;
        }

        if (ownKey is not null)
        {
            settings[ownKey] = "7";
        }

        using var services = Build(null, settings);
        var options = services.GetRequiredService<IOptions<CacheOptions>>().Value;

        Assert.Equal(
            [count, find, search, analytics],
            new[] { QueryType.Count, QueryType.Find, QueryType.Search, QueryType.Analytics }.Select(t => (int)options.Ttl(t).TotalSeconds).ToArray());
    }

    private static ServiceProvider Build(string? eagerRefresh, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration["ConnectionStrings:clientsdb"] = "Host=127.0.0.1;Database=unused";
        builder.Configuration["ConnectionStrings:cache"] = "127.0.0.1:1,abortConnect=false";
        if (eagerRefresh is not null)
        {
            builder.Configuration["CACHE_EAGER_REFRESH"] = eagerRefresh;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.Configuration[key] = value;
        }

        builder.AddApplicationServices();
        return builder.Services.BuildServiceProvider();
    }
}
