using System.Diagnostics;
using System.Diagnostics.Metrics;
using Aspire.Hosting.Testing;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace NexusCore.PerfApi.Tests;

/// <summary>
/// The test process as a monitored service: its own Npgsql spans and pool metrics go to PerfApi's OTLP
/// receiver over HTTP/protobuf with the ingest key, as ServiceDefaults sends ClientsApi's. Real statements,
/// real durations, through the real exporter; each test names its own service so its figures are its own.
/// The Npgsql spans are also kept here, so a test can compute exactly what PerfApi should report.
/// </summary>
internal sealed class TestTelemetry : IDisposable
{
    public const string SourceName = "NexusCore.PerfApi.Tests";

    public static readonly ActivitySource Source = new(SourceName);

    private readonly TracerProvider _traces;
    private readonly MeterProvider _metrics;
    private readonly List<Activity> _npgsqlSpans = [];

    /// <param name="exactService">Use <paramref name="service"/> as it is (a second replica of another telemetry's service).</param>
    /// <param name="temporality">How <c>nexuscore.query.duration</c> (and Npgsql's metrics) are exported.</param>
    public TestTelemetry(
        StackFixture stack, string service, string instance = "tests", bool exactService = false,
        MetricReaderTemporalityPreference temporality = MetricReaderTemporalityPreference.Cumulative)
    {
        // Unique per run of a test: a rerun against the same stack starts from zero.
        Service = exactService ? service : $"{service}-{Guid.NewGuid().ToString("N")[..8]}";
        var perfApi = stack.App.GetEndpoint("perf-api", "http");
        var headers = $"X-Api-Key={stack.ApiKey("ingest")}";
        var resource = ResourceBuilder.CreateEmpty().AddService(Service, serviceInstanceId: instance);
        // A meter of its own: a provider listens to every meter of the names it adds, and two replicas must not share.
        _meter = new Meter($"{SourceName}.{Guid.NewGuid():N}");
        _duration = _meter.CreateHistogram<double>(QueryDuration, unit: "s");
        _traces = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource("Npgsql", SourceName)
            .AddProcessor(new Keep(this))
            .AddOtlpExporter(options =>
            {
                options.Protocol = OtlpExportProtocol.HttpProtobuf;
                options.Endpoint = new Uri(perfApi, "/v1/traces");
                options.Headers = headers;
                // Each span leaves as it ends: the test measures ingest latency, not a batching delay.
                options.ExportProcessorType = ExportProcessorType.Simple;
            })
            .Build();
        _metrics = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter("Npgsql", _meter.Name)

            // As ClientsApi exports nexuscore.query.duration (QueryTelemetry.AddQueryDurationView).
            .AddView(QueryDuration, new Base2ExponentialBucketHistogramConfiguration { MaxSize = 320 })
            .SetExemplarFilter(ExemplarFilterType.TraceBased)
            .AddOtlpExporter((options, reader) =>
            {
                options.Protocol = OtlpExportProtocol.HttpProtobuf;
                options.Endpoint = new Uri(perfApi, "/v1/metrics");
                options.Headers = headers;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 500;
                reader.TemporalityPreference = temporality;
            })
            .Build();
    }

    public const string QueryDuration = "nexuscore.query.duration";

    private readonly Meter _meter;
    private readonly Histogram<double> _duration;

    public string Service { get; }

    /// <summary>
    /// Records one logical query of <paramref name="seconds"/> in <c>nexuscore.query.duration</c> inside a span of its
    /// own (so it may become an exemplar), tagged as ClientsApi tags it; returns the span's trace id.
    /// </summary>
    public string RecordQuery(double seconds, string queryType, string table = "clients", string operation = "SELECT", bool? cacheHit = null)
    {
        using var activity = Source.StartActivity($"{queryType} {table}");
        var tags = new TagList { { "nexuscore.query.type", queryType }, { "db.collection.name", table }, { "db.operation.name", operation } };
        if (cacheHit is { } hit)
        {
            tags.Add("nexuscore.cache.hit", hit);
        }

        _duration.Record(seconds, tags);
        return activity?.TraceId.ToHexString() ?? "";
    }

    /// <summary>The Npgsql spans that ended so far running exactly <paramref name="sql"/>.</summary>
    public IReadOnlyList<Activity> SpansOf(string sql)
    {
        lock (_npgsqlSpans)
        {
            return _npgsqlSpans.Where(span => span.GetTagItem("db.query.text") as string == sql).ToList();
        }
    }

    public void Dispose()
    {
        _traces.ForceFlush(5_000);
        _traces.Dispose();
        _metrics.ForceFlush(5_000);
        _metrics.Dispose();
        _meter.Dispose();
    }

    private sealed class Keep(TestTelemetry owner) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data)
        {
            if (data.Source.Name == "Npgsql")
            {
                lock (owner._npgsqlSpans)
                {
                    owner._npgsqlSpans.Add(data);
                }
            }
        }
    }
}

internal static class ClientsDb
{
    /// <summary>
    /// A data source of its own on clientsdb: the fixture's shared one may still pool connections that a test
    /// stopping Postgres has broken.
    /// </summary>
    /// <param name="resource">The connection string: the superuser's (<c>clientsdb</c>) by default; <c>clientsdb-clients-api</c> runs as the application, whose statements are the ones PerfApi joins with.</param>
    public static async Task<Npgsql.NpgsqlDataSource> OpenAsync(StackFixture stack, string name, int maxPoolSize = 4, string resource = "clientsdb")
    {
        var builder = new Npgsql.NpgsqlDataSourceBuilder(await stack.ConnectionStringAsync(resource)) { Name = name };
        builder.ConnectionStringBuilder.MaxPoolSize = maxPoolSize;
        return builder.Build();
    }
}
