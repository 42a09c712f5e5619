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
using NexusCore.PerfApi.Contract;
using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Integrations;
using NexusCore.PerfApi.Store;
using NexusCore.PerfApi.Store.History;

namespace NexusCore.PerfApi.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("clientsdb");
        builder.AddRedisClient("cache");
        // Its health route is probed like /health (the OTLP receiver's paths are left out by ServiceDefaults).
        builder.Services.AddUntracedPaths("/api/v1/performance/health");

        builder.Services.AddNexusProblemDetails();
        builder.Services.AddRequestSizeRules(builder.Configuration);
        builder.Services.AddNexusCors(builder.Configuration);
        builder.Services.AddApiKeyAuthentication();
        // The same per-key and per-address token buckets as ClientsApi (section RateLimiting): 429 with Retry-After.
        builder.Services.AddNexusRateLimiting(builder.Configuration);
        builder.Services.AddFastEndpoints();
        builder.Services.SwaggerDocument(options =>
        {
            // Tags are the endpoints' own (Performance, OTLP), not a path segment ("V1" for the OTLP routes).
            options.AutoTagPathSegmentIndex = 0;
            options.DocumentSettings = settings =>
            {
                settings.Title = "NexusCore Performance API";
                settings.Version = "v1";
                // Query parameters' bounds and allowed values from the validators, and the OTLP routes' protobuf bodies.
                settings.OperationProcessors.Add(new ParameterSchemaProcessor(options.Services));
            };
        });

        builder.AddTelemetryStore();
        builder.AddQueryHistory();
        builder.AddPerformanceMonitoring();
        builder.AddIndexAdvisor();
        builder.AddClientsApi();
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

    public static void UseApplicationPipeline(this WebApplication app)
    {
        // Liveness probes first: they need none of what follows.
        app.UseLivenessProbe();

        // HEAD reads as GET before routing picks the route (routing is otherwise first of all).
        app.UseHeadAsGet();
        app.UseRouting();
        app.UseTraceIdentifierOfTheRequestSpan();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseNexusCors();
        app.UseRequestSizeRules();
        app.UseBodylessContentTypeTolerance();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseQueryStringRules();
        app.UseRequestMediaTypeRules();

        app.UseFastEndpoints(config =>
        {
            config.UseNexusDefaults();
            config.UsePerfApiRequestContract();
        });

        // The OpenAPI document and UI middleware (three steps) run only for their own paths, not on every request.
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/swagger"), swagger => swagger.UseSwaggerGen());
    }
}
