using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NexusCore.ClientsApi.Caching;
using NexusCore.ClientsApi.Extensions;

namespace NexusCore.ClientsApi.Tests.Caching;

/// <summary>The cache's settings as ClientsApi's own registration binds and validates them (no stack needed).</summary>
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

    private static ServiceProvider Build(string? eagerRefresh)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration["ConnectionStrings:clientsdb"] = "Host=127.0.0.1;Database=unused";
        builder.Configuration["ConnectionStrings:cache"] = "127.0.0.1:1,abortConnect=false";
        if (eagerRefresh is not null)
        {
            builder.Configuration["CACHE_EAGER_REFRESH"] = eagerRefresh;
        }

        builder.AddApplicationServices();
        return builder.Services.BuildServiceProvider();
    }
}
