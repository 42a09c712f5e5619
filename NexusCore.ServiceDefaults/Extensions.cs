using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace NexusCore.ServiceDefaults;

/// <summary>
/// Aspire service defaults shared by every NexusCore service, the migrator included: OpenTelemetry, health checks,
/// service discovery and the standard resilience handler on every HttpClient. Nothing here needs ASP.NET Core: a web
/// service adds its request instrumentation, probes and health endpoint with NexusCore.Web's <c>AddWebDefaults</c>.
/// </summary>
public static class Extensions
{
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

    /// <summary>ASP.NET Core's memory-pool meter, which the ASP.NET Core instrumentation subscribes to and this service drops.</summary>
    public const string KestrelMemoryPoolMeter = "Microsoft.AspNetCore.MemoryPool";

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
                metrics.AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddMeter(builder.Environment.ApplicationName)
                    // Kestrel's buffer-pool counters are updated for every block rented and returned, several times a
                    // request (1.6 % of a cached GET's CPU), and nothing reads them: not collected (bench/README.md).
                    .AddView(instrument => instrument.Meter.Name == KestrelMemoryPoolMeter ? MetricStreamConfiguration.Drop : null);
            })
            .WithTracing(tracing =>
            {
                // Every span is recorded, the sampled flag is the head decision; TailSamplingProcessor exports the rest
                // only when slow or failed (README, Configuration).
                tracing.SetSampler(sp => new RecordEverySpanSampler(sp.GetRequiredService<IOptions<TracingOptions>>().Value.SampleRatio))
                    .AddSource(builder.Environment.ApplicationName)
                    .AddHttpClientInstrumentation(options => options.EnrichWithHttpRequestMessage = (activity, request) =>
                    {
                        if (request.RequestUri is { Query.Length: > 1 } uri)
                        {
                            activity.SetTag("url.full", uri.GetLeftPart(UriPartial.Path) + "?" + RedactedQuery(
                                uri.Query.TrimStart('?').Split('&').Select(pair => pair.Split('=')[0])));
                        }
                    });
            });

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
    public static string RedactedQuery(IEnumerable<string> names) =>
        string.Join('&', names.Select(name => Uri.EscapeDataString(name) + "=Redacted"));

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);

        return builder;
    }
}
