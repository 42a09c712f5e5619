using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Instrumentation.AspNetCore;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using Microsoft.Extensions.Configuration;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Aspire service defaults shared by every NexusCore service: OpenTelemetry, health checks,
/// service discovery and the standard resilience handler on every HttpClient.
/// </summary>
public static class Extensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";

    /// <summary>PerfApi's base address, set by the AppHost for services it monitors.</summary>
    public const string TelemetryEndpointKey = "NexusCore:Telemetry:PerfApiEndpoint";

    /// <summary>The key PerfApi's OTLP ingest requires, sent in X-Api-Key.</summary>
    public const string TelemetryKeyKey = "NexusCore:Telemetry:PerfApiKey";

    private const string PerfApiExporter = "perfapi";

    /// <summary>The ActivitySource Npgsql's command spans come from.</summary>
    private const string NpgsqlActivitySource = "Npgsql";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        NexusCore.ServiceDefaults.SeedSettings.AddSeedSettings(builder.Configuration);
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddMeter(builder.Environment.ApplicationName);
            })
            .WithTracing(tracing =>
            {
                // Every span is recorded, the sampled flag is the head decision; TailSamplingProcessor exports the rest
                // only when slow or failed (README, Configuration).
                tracing.SetSampler(sp => new RecordEverySpanSampler(sp.GetRequiredService<IOptions<TracingOptions>>().Value.SampleRatio))
                    .AddSource(builder.Environment.ApplicationName)
                    .AddAspNetCoreInstrumentation(options =>
                    {
                        // Query strings carry what users typed (a searched name, an email): keep the names only.
                        options.EnrichWithHttpRequest = (activity, request) =>
                        {
                            if (request.QueryString.HasValue)
                            {
                                activity.SetTag("url.query", RedactedQuery(request.Query.Keys));
                            }
                        };
                    })
                    .AddHttpClientInstrumentation(options => options.EnrichWithHttpRequestMessage = (activity, request) =>
                    {
                        if (request.RequestUri is { Query.Length: > 1 } uri)
                        {
                            activity.SetTag("url.full", uri.GetLeftPart(UriPartial.Path) + "?" + RedactedQuery(
                                uri.Query.TrimStart('?').Split('&').Select(pair => pair.Split('=')[0])));
                        }
                    });
            });

        // Probes and OTLP ingest would drown real traffic in the traces and the request metrics.
        builder.Services.AddOptions<UntracedPaths>();
        builder.Services.AddOptions<AspNetCoreTraceInstrumentationOptions>()
            .Configure<IOptions<UntracedPaths>>((options, untraced) => options.Filter = context => !untraced.Value.Matches(context.Request.Path));
        builder.Services.AddTransient<IStartupFilter, UntracedPathsExtensions.MetricsFilter>();

        SlowQueryOptions.Register(builder.Services);
        builder.Services.AddOptions<TracingOptions>().BindConfiguration(TracingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TracingOptions>, TracingOptionsValidator>();

        builder.AddOpenTelemetryExporters();

        return builder;
    }

    /// <summary>
    /// Exports to the Aspire dashboard when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (as the template
    /// does), and, when <c>NexusCore:Telemetry:PerfApiEndpoint</c> is set, traces and metrics also to
    /// PerfApi over OTLP/HTTP protobuf with its ingest key. Per-signal exporters, because
    /// <c>UseOtlpExporter()</c> cannot be combined with a second <c>AddOtlpExporter</c>.
    /// </summary>
    private static TBuilder AddOpenTelemetryExporters<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var openTelemetry = builder.Services.AddOpenTelemetry();
        var exporters = new List<Func<BaseProcessor<Activity>>>();

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Logging.AddOpenTelemetry(logging => logging.AddOtlpExporter());
            // Built here rather than with AddOtlpExporter(), whose processor would see every span as it ends: the tail
            // sampler forwards only the kept ones. Endpoint, protocol and headers come from OTEL_EXPORTER_OTLP_* as there.
            exporters.Add(() =>
            {
                var batching = new BatchExportActivityProcessorOptions();
                return new BatchActivityExportProcessor(new OtlpTraceExporter(new OtlpExporterOptions()),
                    batching.MaxQueueSize, batching.ScheduledDelayMilliseconds, batching.ExporterTimeoutMilliseconds, batching.MaxExportBatchSize);
            });
            openTelemetry.WithMetrics(metrics => metrics.AddOtlpExporter());
        }

        var perfApi = builder.Configuration[TelemetryEndpointKey];
        if (!string.IsNullOrWhiteSpace(perfApi))
        {
            var baseUri = new Uri(perfApi.TrimEnd('/') + "/");
            var headers = builder.Configuration[TelemetryKeyKey] is { Length: > 0 } key ? $"X-Api-Key={key}" : null;
            var interval = builder.Configuration.GetValue("NexusCore:Telemetry:MetricExportIntervalMs", 1000);

            // PerfApi reads query spans only (the service's own logical-query spans and Npgsql's), so
            // only those are sent to it: request and HTTP-client spans still go to the dashboard, and
            // a cached read costs one exported span instead of two.
            var querySources = new HashSet<string>(StringComparer.Ordinal) { builder.Environment.ApplicationName, NpgsqlActivitySource };
            exporters.Add(() => new SourceFilteringProcessor(
                new OtlpTraceExporter(new OtlpExporterOptions
                {
                    Protocol = OtlpExportProtocol.HttpProtobuf,
                    Endpoint = new Uri(baseUri, "v1/traces"),
                    Headers = headers,
                }),
                querySources,
                new BatchExportActivityProcessorOptions()));

            // A name of its own: exporters sharing a name share one options object.
            openTelemetry.WithMetrics(metrics => metrics.AddOtlpExporter(PerfApiExporter + "-metrics", (options, reader) =>
            {
                options.Protocol = OtlpExportProtocol.HttpProtobuf;
                options.Endpoint = new Uri(baseUri, "v1/metrics");
                options.Headers = headers;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = interval;

                // Deltas: each export carries only the series that changed, and a histogram's min, max and
                // exemplars are those of the interval (PerfApi's max per minute is then exact). PerfApi also
                // takes cumulative points; the dashboard's exporter keeps the default.
                reader.TemporalityPreference = MetricReaderTemporalityPreference.Delta;
            }));
        }

        if (exporters.Count > 0)
        {
            openTelemetry.WithTracing(tracing => tracing.AddProcessor(sp => new TailSamplingProcessor(
                exporters.Select(create => create()),
                new TailSamplingPolicy(sp.GetRequiredService<IOptions<TracingOptions>>().Value, sp.GetRequiredService<IOptions<SlowQueryOptions>>().Value),
                sp.GetRequiredService<IMeterFactory>().Create(builder.Environment.ApplicationName))));
        }

        return builder;
    }

    /// <summary><c>q=Redacted&amp;limit=Redacted</c>: which parameters were sent, never their values.</summary>
    private static string RedactedQuery(IEnumerable<string> names) =>
        string.Join('&', names.Select(name => Uri.EscapeDataString(name) + "=Redacted"));

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);

        return builder;
    }

    /// <summary>
    /// Answers <c>/alive</c> (GET or HEAD: the process answers) before anything else runs: no routing,
    /// authentication, rate limiting, health-check service or OpenAPI middleware, and no request metrics
    /// (a probe is not API traffic). Put it first in the pipeline. The body is the health-check word
    /// (<c>Healthy</c>), as before.
    /// </summary>
    public static WebApplication UseLivenessProbe(this WebApplication app)
    {
        app.Use(static (context, next) =>
        {
            var request = context.Request;
            if (!request.Path.Equals(AlivenessEndpointPath, StringComparison.OrdinalIgnoreCase)
                || !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)))
            {
                return next(context);
            }

            if (context.Features.Get<IHttpMetricsTagsFeature>() is { } metrics)
            {
                metrics.MetricsDisabled = true;
            }

            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/plain";
            response.Headers.CacheControl = "no-store, no-cache";
            response.ContentLength = Healthy.Length;
            return HttpMethods.IsHead(request.Method) ? Task.CompletedTask : response.Body.WriteAsync(Healthy).AsTask();
        });

        return app;
    }

    private static readonly byte[] Healthy = "Healthy"u8.ToArray();

    /// <summary>
    /// Maps <c>/health</c> (every check must pass: ready for traffic). <c>/alive</c> is answered by
    /// <see cref="UseLivenessProbe"/> at the front of the pipeline. Unlike the template, health is mapped in
    /// every environment, because orchestrators probe production too; it reports only a status word, never
    /// check details.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthEndpointPath);
        return app;
    }
}
