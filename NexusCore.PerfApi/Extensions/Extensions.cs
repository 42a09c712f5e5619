using FastEndpoints;
using FastEndpoints.Swagger;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Analysis.Alerts;
using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.PerfApi.Analysis.Performance;
using NexusCore.PerfApi.Analysis.Recommendations;
using NexusCore.PerfApi.Benchmark;
using NexusCore.PerfApi.Console;
using NexusCore.PerfApi.Contract;
using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Integrations;
using NexusCore.PerfApi.Store;
using NexusCore.PerfApi.Store.History;
using NexusCore.ServiceDefaults;

namespace NexusCore.PerfApi.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        // DB_POOL_SIZE and the DB_* timeouts size PerfApi's pool as they size ClientsApi's search pool
        // (local Postgres's max_connections is sized on it).
        builder.Configuration.AddSeedSettings();
        var database = builder.BindAtStart<DatabaseOptions>(DatabaseOptions.Section);
        builder.AddNpgsqlDataSource("clientsdb", configureDataSourceBuilder: source =>
        {
            source.ConnectionStringBuilder.MaxPoolSize = database.PoolSize;
            source.ConnectionStringBuilder.MinPoolSize = Math.Min(source.ConnectionStringBuilder.MinPoolSize, database.PoolSize);
            source.ConnectionStringBuilder.Timeout = database.ConnectionTimeoutSeconds;
            source.ConnectionStringBuilder.CommandTimeout = database.CommandTimeoutSeconds;
        });
        builder.AddRedisClient("cache");
        // Its health route is probed like /health (the OTLP receiver's paths are left out by NexusCore.Web's UntracedPaths).
        builder.Services.AddUntracedPaths("/api/v1/performance/health");

        builder.Services.AddFastEndpoints();
        // The document's shared parts (security schemes and roles, the problem schema, title, server) come from
        // NexusCore.Web's OpenApiDefaults; each route describes its own parameters, bodies and statuses.
        builder.Services.SwaggerDocument(options =>
        {
            // Tags are the endpoints' own (Performance, OTLP), not a path segment ("V1" for the OTLP routes).
            options.AutoTagPathSegmentIndex = 0;
            options.UseNexusDefaults(
                "NexusCore Performance API",
                "Performance of the NexusCore services, computed from the OpenTelemetry they export (OTLP/HTTP protobuf) and from `pg_stat_statements`: query analytics, slow queries, alerts, recommendations, index advice, a bounded benchmark. Routes need an API key (each operation names its role), but for the status word at `/api/v1/performance/health`. Errors are RFC 9457 problem documents.",
                // Query parameters' bounds and allowed values from the validators, and the OTLP routes' protobuf bodies.
                settings => settings.OperationProcessors.Add(new ParameterSchemaProcessor(options.Services)));
        });

        builder.AddTelemetryStore();
        builder.AddQueryHistory();
        builder.AddPerformanceMonitoring();
        builder.AddIndexAdvisor();
        builder.AddClientsApi();
        builder.AddConsole();
    }

    /// <summary>What the performance endpoints compute from the store: readings, alerts, recommendations, benchmark.</summary>
    private static void AddPerformanceMonitoring(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PerformanceReader>();
        // SlowQueryOptions (SLOW_QUERY_THRESHOLD) is registered by ServiceDefaults: ClientsApi's tracing reads it too.

        builder.Services.AddOptions<AlertOptions>().BindConfiguration(AlertOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AlertOptions>, AlertOptionsValidator>();
        builder.Services.AddSingleton<AlertEvaluator>();
        builder.Services.AddSingleton<AlertBoard>();
        builder.Services.AddHostedService<AlertMonitor>();

        builder.Services.AddRecommendationRules();

        builder.Services.AddOptions<BenchmarkOptions>().BindConfiguration(BenchmarkOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<BenchmarkOptions>, BenchmarkOptionsValidator>();
        builder.Services.AddSingleton<BenchmarkRunner>();
    }

    /// <summary>ClientsApi by its service-discovery name, with the standard resilience handler ServiceDefaults puts on every HttpClient.</summary>
    private static void AddClientsApi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ClientsApiOptions>().BindConfiguration(ClientsApiOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHttpClient<ClientsApiClient>((services, http) =>
            http.BaseAddress = new Uri(services.GetRequiredService<IOptions<ClientsApiOptions>>().Value.BaseAddress));
    }

    /// <summary>The OTLP receiver's limits, and the bounded store and queue behind it (see <see cref="TelemetryStoreOptions"/>).</summary>
    private static void AddTelemetryStore(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelemetryStoreOptions>().BindConfiguration(TelemetryStoreOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TelemetryStoreOptions>, TelemetryStoreOptionsValidator>();
        builder.Services.AddOptions<OtlpReceiverOptions>().BindConfiguration(OtlpReceiverOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<TelemetryCounters>();
        builder.Services.AddSingleton<OtlpReceiver>();
        builder.Services.AddSingleton<TelemetryStore>();

        // The roll-ups the history writer persists, and where query figures are read from (a history store may
        // replace the reader with one that adds persisted minutes: see IQueryRollupReader).
        builder.Services.AddSingleton<IQueryRollupSource>(services => services.GetRequiredService<TelemetryStore>().Rollups);
        builder.Services.TryAddSingleton<IQueryRollupReader>(services => services.GetRequiredService<TelemetryStore>().Rollups);
        builder.Services.AddSingleton<TelemetryIngestQueue>();
        builder.Services.AddHostedService<TelemetryAggregator>();
    }
}
