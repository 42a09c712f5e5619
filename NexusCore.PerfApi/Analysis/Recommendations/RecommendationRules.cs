using Microsoft.Extensions.Options;

namespace NexusCore.PerfApi.Analysis.Recommendations;

public static class RecommendationRules
{
    /// <summary>
    /// The rules <c>optimization/recommendations</c> asks, in this order. To add advice, write an
    /// <see cref="IRecommendationRule"/> and register it here.
    /// </summary>
    public static IServiceCollection AddRecommendationRules(this IServiceCollection services)
    {
        services.AddOptions<RecommendationOptions>().BindConfiguration(RecommendationOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RecommendationOptions>, RecommendationOptionsValidator>();

        services.AddSingleton<IRecommendationRule, SlowQueryRule>();
        services.AddSingleton<IRecommendationRule, CacheHitRateRule>();
        services.AddSingleton<IRecommendationRule, PoolSaturationRule>();
        services.AddSingleton<IRecommendationRule, CacheMemoryRule>();
        return services;
    }

    internal static RecommendationPriority PriorityFor(bool crossesAlertThreshold) =>
        crossesAlertThreshold ? RecommendationPriority.High : RecommendationPriority.Medium;
}
