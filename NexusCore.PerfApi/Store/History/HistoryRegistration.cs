using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace NexusCore.PerfApi.Store.History;

public static class HistoryRegistration
{
    /// <summary>
    /// The history of minute roll-ups in <c>perf.query_minutes</c> and of compacted hours in <c>perf.query_hours</c>:
    /// its writer, compactor and retention sweep (hosted), its reader, and the <see cref="IQueryRollupReader"/> every
    /// query figure is read through (persisted hours and minutes plus memory's).
    /// The roll-ups come from the <see cref="IQueryRollupSource"/> the in-memory store registers.
    /// </summary>
    public static void AddQueryHistory(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<HistoryOptions>().BindConfiguration(HistoryOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<HistoryOptions>, HistoryOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<HistoryCounters>();
        services.AddSingleton<HistoryReader>();
        services.AddSingleton<HistoryWriter>();
        services.AddHostedService(s => s.GetRequiredService<HistoryWriter>());
        services.AddSingleton<HistoryCompactor>();
        services.AddHostedService(s => s.GetRequiredService<HistoryCompactor>());
        services.AddSingleton<HistoryRetention>();
        services.AddHostedService(s => s.GetRequiredService<HistoryRetention>());
        // Replaces the in-memory reader AddTelemetryStore registers: query figures read persisted minutes too.
        services.Replace(ServiceDescriptor.Singleton<IQueryRollupReader, HistoryRollupReader>());
    }
}
