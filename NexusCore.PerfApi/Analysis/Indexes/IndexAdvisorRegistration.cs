using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Analysis.Recommendations;

namespace NexusCore.PerfApi.Analysis.Indexes;

public static class IndexAdvisorRegistration
{
    /// <summary>
    /// The index advisor: options (section <c>IndexAdvisor</c>), its dedicated connections, the analysis, the
    /// retirement rules with the usage snapshots behind them, the applier, and the index advice among the
    /// optimization recommendations.
    /// </summary>
    public static IHostApplicationBuilder AddIndexAdvisor(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<IndexAdvisorOptions>().BindConfiguration(IndexAdvisorOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<IndexAdvisorOptions>, IndexAdvisorOptionsValidator>();
        services.AddSingleton(services => AdvisorConnections.FromConfiguration(services.GetRequiredService<IConfiguration>()));
        services.AddSingleton<IndexAnalyzer>();
        services.AddSingleton<IndexRetirement>();
        services.AddSingleton<IndexAdvisor>();
        services.AddSingleton<LatencyProbe>();
        services.AddSingleton<IndexApplier>();
        services.AddSingleton<RollbackRegistry>();
        services.AddSingleton<RegressionWatch>();
        services.AddHostedService<IndexUsageMonitor>();

        // Joins the rules optimization/recommendations asks (registered by AddRecommendationRules), after them.
        services.AddSingleton<IRecommendationRule, IndexAdviceRule>();
        return builder;
    }
}
