using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Trace;
using NexusCore.ServiceDefaults;

namespace NexusCore.ClientsApi.Tests.Telemetry;

/// <summary>
/// The sampler and tail-sampling processor ServiceDefaults installs, in a real TracerProvider with the SDK's
/// in-memory exporter behind them (what reaches it is what an OTLP exporter would send). Durations are set on the
/// spans (start time in the past), so nothing here waits for a slow span.
/// </summary>
[NoStack]
public sealed class TailSamplingTests
{
    [Fact]
    public void AFastUnsampledTraceIsDroppedWholeAndNothingStaysHeld()
    {
        using var pipeline = new Pipeline(ratio: 0);

        using (var root = pipeline.Root("GET api/v1/clients/{id}"))
        {
            using var query = pipeline.Child("find clients");
            Assert.False(query!.Recorded);
            Assert.True(query.IsAllDataRequested);
        }

        Assert.Empty(pipeline.Exported);
        Assert.Equal((0L, 1L, 0L, 0, 0), Counts(pipeline.Tail));
    }

    [Fact]
    public void ATraceWithASpanOverSlowQueryThresholdIsExportedWholeWithItsStatement()
    {
        using var pipeline = new Pipeline(ratio: 0, slowSeconds: 1.0);

        using (var root = pipeline.Root("GET api/v1/clients"))
        {
            using (var fast = pipeline.Child("count clients"))
            {
            }

            using var slow = pipeline.Child("postgresql", TimeSpan.FromSeconds(1.5));
            slow!.SetTag("db.query.text", "SELECT count(*) FROM clients WHERE name ILIKE $1");
        }

        Assert.Equal(["count clients", "postgresql", "GET api/v1/clients"], pipeline.Exported.Select(s => s.DisplayName));
        Assert.All(pipeline.Exported, s => Assert.True(s.Recorded));
        Assert.Equal("SELECT count(*) FROM clients WHERE name ILIKE $1", pipeline.Exported[1].GetTagItem("db.query.text"));
        Assert.Equal("slow", pipeline.Exported[2].GetTagItem(TailSamplingProcessor.KeptTag));
        Assert.Equal((1L, 0L, 0L, 0, 0), Counts(pipeline.Tail));
    }

    [Fact]
    public void ARequestJustUnderTheThresholdIsDropped()
    {
        using var pipeline = new Pipeline(ratio: 0, slowSeconds: 1.0);

        using (var root = pipeline.Root("GET api/v1/clients", TimeSpan.FromSeconds(0.9)))
        {
            using var query = pipeline.Child("search clients", TimeSpan.FromSeconds(0.8));
        }

        Assert.Empty(pipeline.Exported);
    }

    [Fact]
    public void ARouteWithAThresholdOfItsOwnIsJudgedByItInsteadOfSlowQueryThreshold()
    {
        var tracing = new TracingOptions
        {
            SlowRoutes = [new SlowRoute { Route = "/api/v1/clients/{id}", ThresholdSeconds = 0.05 }, new SlowRoute { Route = "api/v1/clients/export", ThresholdSeconds = 30 }],
        };
        using var pipeline = new Pipeline(ratio: 0, tracing: tracing, slowSeconds: 1.0);

        Request("api/v1/clients/{id}", TimeSpan.FromSeconds(0.1));   // over its own 50 ms: kept
        Request("api/v1/clients", TimeSpan.FromSeconds(0.1));        // under the global 1 s: dropped
        Request("api/v1/clients/export", TimeSpan.FromSeconds(2));   // a 2 s export is normal: dropped

        // The whole trace of the first; the export's 2 s query is not slow for its route either.
        Assert.Equal(["query", "GET api/v1/clients/{id}"], pipeline.Exported.Select(s => s.DisplayName));

        void Request(string route, TimeSpan duration)
        {
            using var root = pipeline.Root("GET " + route, duration);
            root!.SetTag("http.route", route);
            using var query = pipeline.Child("query", duration - TimeSpan.FromMilliseconds(10));
        }
    }

    [Fact]
    public void AFailedTraceIsExportedWholeWhateverItsDuration()
    {
        using var pipeline = new Pipeline(ratio: 0);

        using (var root = pipeline.Root("GET api/v1/clients/{id}"))
        {
            using var query = pipeline.Child("find clients");
            query!.SetStatus(ActivityStatusCode.Error);
        }

        using (var root = pipeline.Root("GET api/v1/clients"))
        {
            root!.SetTag("http.response.status_code", 503);
        }

        using (var root = pipeline.Root("GET api/v1/clients/{id}"))
        {
            root!.SetTag("http.response.status_code", 404);
        }

        Assert.Equal(["find clients", "GET api/v1/clients/{id}", "GET api/v1/clients"], pipeline.Exported.Select(s => s.DisplayName));
        Assert.Equal(["error", "error"], pipeline.Exported.Skip(1).Select(s => s.GetTagItem(TailSamplingProcessor.KeptTag)));
        Assert.Equal((2L, 1L, 0L, 0, 0), Counts(pipeline.Tail));
    }

    [Theory]
    [InlineData(0.0, 0, 0)]
    [InlineData(0.1, 350, 650)]
    [InlineData(1.0, 5000, 5000)]
    public void NewTracesAreSampledAtTheConfiguredRatioAndExportedWhole(double ratio, int min, int max)
    {
        using var pipeline = new Pipeline(ratio);

        for (var i = 0; i < 5000; i++)
        {
            using var root = pipeline.Root("GET api/v1/clients/{id}");
            using var query = pipeline.Child("find clients");
        }

        // 500 ± 150 for 0.1 is seven standard deviations of a binomial(5000, 0.1).
        var roots = pipeline.Exported.Count(s => s.Parent is null);
        Assert.InRange(roots, min, max);
        Assert.Equal(roots, pipeline.Exported.Count(s => s.Parent is not null));
        Assert.All(pipeline.Exported, s => Assert.Null(s.GetTagItem(TailSamplingProcessor.KeptTag)));
        Assert.Equal((0, 0), (pipeline.Tail.Statistics.OpenTraces, pipeline.Tail.Statistics.BufferedSpans));
    }

    [Fact]
    public void ACallersSampledFlagIsHonouredEvenWhenTheRatioIsZero()
    {
        using var pipeline = new Pipeline(ratio: 0);
        var caller = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);

        using (var root = pipeline.Root("GET api/v1/clients/{id}", parent: caller))
        {
            using var query = pipeline.Child("find clients");
            // Downstream calls carry the flag on (traceparent …-01): the next service keeps its part too.
            Assert.True(query!.Recorded);
        }

        Assert.Equal(2, pipeline.Exported.Count);
        Assert.All(pipeline.Exported, s => Assert.Equal(caller.TraceId, s.TraceId));
    }

    [Fact]
    public void ACallersUnsampledFlagIsHonouredEvenWhenTheRatioIsOne()
    {
        using var pipeline = new Pipeline(ratio: 1);
        var caller = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, isRemote: true);

        using (var root = pipeline.Root("GET api/v1/clients/{id}", parent: caller))
        {
            using var query = pipeline.Child("find clients");
            Assert.False(query!.Recorded);
        }

        Assert.Empty(pipeline.Exported);

        // …unless this service's part of it is slow: then that part is exported.
        using (var root = pipeline.Root("GET api/v1/clients/{id}", TimeSpan.FromSeconds(2), parent: caller))
        {
        }

        Assert.Equal("slow", Assert.Single(pipeline.Exported).GetTagItem(TailSamplingProcessor.KeptTag));
    }

    [Fact]
    public void ChildrenOfARequestLeftUntracedAreNotRecordedAtAll()
    {
        using var pipeline = new Pipeline(ratio: 1);

        using (var probe = pipeline.Root("GET /health"))
        {
            // What the ASP.NET Core instrumentation does to a request its filter refuses (a probe, OTLP ingest).
            probe!.IsAllDataRequested = false;
            probe.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;

            using var check = pipeline.Source.StartActivity("postgresql", ActivityKind.Client);
            Assert.False(check?.IsAllDataRequested ?? false);
        }

        Assert.Empty(pipeline.Exported);
        Assert.Equal((0L, 0L, 0L, 0, 0), Counts(pipeline.Tail));
    }

    [Fact]
    public void SpansOfTracesBeyondMaxOpenTracesAreRefusedAndTheirRootsStillDecided()
    {
        using var pipeline = new Pipeline(ratio: 0, tracing: new TracingOptions { MaxOpenTraces = 3 });
        var roots = new List<Activity>();
        for (var i = 0; i < 4; i++)
        {
            var root = pipeline.Root("GET api/v1/clients")!;
            Activity.Current = root;
            pipeline.Child("search clients")!.Dispose();
            roots.Add(root);
            Activity.Current = null;
        }

        var held = pipeline.Tail.Statistics;
        Assert.Equal((3, 3, 1L), (held.OpenTraces, held.BufferedSpans, held.Refused));

        // The fourth trace's root is slow: it is exported, without the child that found no room.
        roots[3].SetStartTime(roots[3].StartTimeUtc - TimeSpan.FromSeconds(5));
        foreach (var root in roots)
        {
            root.Dispose();
        }

        Assert.Equal([roots[3]], pipeline.Exported);
        Assert.Equal((1L, 3L, 1L, 0, 0), Counts(pipeline.Tail));
    }

    [Fact]
    public void SpansBeyondMaxSpansPerTraceAreRefusedButTheirSlownessStillCounts()
    {
        using var pipeline = new Pipeline(ratio: 0, tracing: new TracingOptions { MaxSpansPerTrace = 2, MaxBufferedSpans = 3 });

        using (var root = pipeline.Root("POST api/v1/clients/batch", TimeSpan.FromSeconds(0.5)))
        {
            pipeline.Child("insert 1")!.Dispose();
            pipeline.Child("insert 2")!.Dispose();
            // The third is over the per-trace bound and not held, but it was slow: the trace is kept.
            pipeline.Child("insert 3", TimeSpan.FromSeconds(1.2))!.Dispose();
            Assert.Equal((1, 2, 1L), (pipeline.Tail.Statistics.OpenTraces, pipeline.Tail.Statistics.BufferedSpans, pipeline.Tail.Statistics.Refused));
        }

        Assert.Equal(["insert 1", "insert 2", "POST api/v1/clients/batch"], pipeline.Exported.Select(s => s.DisplayName));
    }

    [Fact]
    public void SpansBeyondMaxBufferedSpansAcrossTracesAreRefused()
    {
        using var pipeline = new Pipeline(ratio: 0, tracing: new TracingOptions { MaxSpansPerTrace = 2, MaxBufferedSpans = 3 });
        var first = pipeline.Root("GET a")!;
        pipeline.Child("a1")!.Dispose();
        pipeline.Child("a2")!.Dispose();
        Activity.Current = null;
        var second = pipeline.Root("GET b")!;
        pipeline.Child("b1")!.Dispose();
        pipeline.Child("b2")!.Dispose();

        Assert.Equal((2, 3, 1L), (pipeline.Tail.Statistics.OpenTraces, pipeline.Tail.Statistics.BufferedSpans, pipeline.Tail.Statistics.Refused));

        second.Dispose();
        first.Dispose();
        Assert.Equal((0, 0), (pipeline.Tail.Statistics.OpenTraces, pipeline.Tail.Statistics.BufferedSpans));
    }

    [Fact]
    public async Task ATraceWhoseRootNeverEndsHereIsLetGoOnceIdle()
    {
        using var pipeline = new Pipeline(ratio: 0, tracing: new TracingOptions { IdleTraceSeconds = 1 });
        var orphanRoot = pipeline.Root("background")!;
        pipeline.Child("late child")!.Dispose();
        Activity.Current = null;
        Assert.Equal(1, pipeline.Tail.Statistics.OpenTraces);

        // Sweeps run as spans arrive (at most once a second): keep traffic flowing until the idle trace is gone.
        await Eventually.ThatAsync(() =>
        {
            using (var root = pipeline.Root("GET api/v1/clients"))
            {
                pipeline.Child("count clients")!.Dispose();
            }

            return Task.FromResult(pipeline.Tail.Statistics.Expired == 1);
        }, TimeSpan.FromSeconds(10), "the idle trace let go", TimeSpan.FromMilliseconds(100));

        Assert.Equal((0, 0), (pipeline.Tail.Statistics.OpenTraces, pipeline.Tail.Statistics.BufferedSpans));
        Activity.Current = null;
        GC.KeepAlive(orphanRoot);
    }

    [Fact]
    public void AChildThatEndsAfterItsRequestFollowsTheRequestsDecisionWithoutBeingHeld()
    {
        using var pipeline = new Pipeline(ratio: 0);

        var dropped = pipeline.Root("GET api/v1/clients/{id}")!;
        var refresh = pipeline.Child("background refresh")!;
        dropped.Dispose();
        var kept = pipeline.Root("GET api/v1/clients", TimeSpan.FromSeconds(3))!;
        var lateQuery = pipeline.Child("late query")!;
        kept.Dispose();

        refresh.Dispose();
        lateQuery.Dispose();

        Assert.Equal(["GET api/v1/clients", "late query"], pipeline.Exported.Select(s => s.DisplayName));
        var held = pipeline.Tail.Statistics;
        Assert.Equal((2L, 0, 0), (held.Late, held.OpenTraces, held.BufferedSpans));
    }

    [Fact]
    public void TwoRequestsOfOneCallersTraceAreDecidedEachOnItsOwnSpans()
    {
        using var pipeline = new Pipeline(ratio: 0);
        var caller = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, isRemote: true);

        // Both at once, as a caller's parallel calls arrive.
        var fast = pipeline.Root("GET api/v1/clients/{id}", parent: caller)!;
        var fastQuery = pipeline.Child("find clients")!;
        var slow = pipeline.Root("GET api/v1/clients", parent: caller)!;
        var slowQuery = pipeline.Child("search clients", TimeSpan.FromSeconds(2))!;
        fastQuery.Dispose();
        slowQuery.Dispose();
        fast.Dispose();
        slow.Dispose();

        Assert.Equal(["search clients", "GET api/v1/clients"], pipeline.Exported.Select(s => s.DisplayName));
    }

    [Theory]
    [InlineData("Tracing:SampleRatio", "1.5", "SampleRatio")]
    [InlineData("Tracing:SampleRatio", "NaN", "SampleRatio")]
    [InlineData("Tracing:MaxOpenTraces", "0", "MaxOpenTraces")]
    [InlineData("Tracing:MaxSpansPerTrace", "40000", "cannot exceed Tracing:MaxBufferedSpans")]
    [InlineData("Tracing:SlowRoutes:0:ThresholdSeconds", "-1", "Tracing:SlowRoutes:0")]
    [InlineData("Tracing:SlowRoutes:1:Route", "/api/v1/clients/", "names route 'api/v1/clients' 2 times")]
    [InlineData("SLOW_QUERY_THRESHOLD", "fast", "SLOW_QUERY_THRESHOLD")]
    public void BadTracingSettingsAreRefusedAtStartNamingTheSetting(string key, string value, string named)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Tracing:SlowRoutes:0:Route"] = "api/v1/clients",
            ["Tracing:SlowRoutes:0:ThresholdSeconds"] = "0.5",
            [key] = value,
        });
        builder.AddServiceDefaults();
        using var host = builder.Build();

        var refused = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
        {
            _ = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<TracingOptions>>().Value;
            _ = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<SlowQueryOptions>>().Value;
        });
        Assert.Contains(named, refused.Message, StringComparison.Ordinal);
    }

    private static (long Kept, long Dropped, long Refused, int OpenTraces, int BufferedSpans) Counts(TailSamplingProcessor tail)
    {
        var s = tail.Statistics;
        return (s.Kept, s.Dropped, s.Refused, s.OpenTraces, s.BufferedSpans);
    }

    /// <summary>A TracerProvider listening to a source of its own, with the sampler and processor ServiceDefaults uses.</summary>
    private sealed class Pipeline : IDisposable
    {
        private readonly TracerProvider _provider;

        public Pipeline(double ratio, TracingOptions? tracing = null, double slowSeconds = 1.0)
        {
            Source = new ActivitySource("NexusCore.Tests.TailSampling." + Guid.NewGuid().ToString("N"));
            Tail = new TailSamplingProcessor(
                [new SimpleActivityExportProcessor(new InMemoryExporter<Activity>(Exported))],
                new TailSamplingPolicy(tracing ?? new TracingOptions(), new SlowQueryOptions { ThresholdSeconds = slowSeconds }));
            _provider = Sdk.CreateTracerProviderBuilder()
                .AddSource(Source.Name)
                .SetSampler(new RecordEverySpanSampler(ratio))
                .AddProcessor(Tail)
                .Build();
            Activity.Current = null;
        }

        public ActivitySource Source { get; }

        public TailSamplingProcessor Tail { get; }

        public List<Activity> Exported { get; } = [];

        /// <summary>A local root (no parent, or a caller's context); <paramref name="duration"/> long once ended.</summary>
        public Activity? Root(string name, TimeSpan? duration = null, ActivityContext parent = default)
        {
            Activity.Current = null;
            var span = Source.StartActivity(name, ActivityKind.Server, parent);
            Backdate(span, duration);
            return span;
        }

        /// <summary>A child of the current span.</summary>
        public Activity? Child(string name, TimeSpan? duration = null)
        {
            var span = Source.StartActivity(name);
            Backdate(span, duration);
            return span;
        }

        public void Dispose()
        {
            Activity.Current = null;
            _provider.Dispose();
            Source.Dispose();
        }

        private static void Backdate(Activity? span, TimeSpan? duration)
        {
            if (span is not null && duration is { } d)
            {
                span.SetStartTime(span.StartTimeUtc - d);
            }
        }
    }
}
