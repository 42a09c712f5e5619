using System.Diagnostics;
using OpenTelemetry.Trace;

namespace NexusCore.ServiceDefaults;

/// <summary>
/// The head decision, made as a span starts: a new trace is sampled with probability <c>Tracing:SampleRatio</c>
/// (by its trace id, so every service agrees), a caller's <c>traceparent</c> is honoured, and a span follows its
/// parent, so a sampled trace stays whole across services. Unlike the SDK's parent-based sampler, an unsampled span is
/// still recorded (RecordOnly: its duration, status and attributes are filled, its sampled flag stays clear, and the
/// SDK's exporters skip it), so that <see cref="TailSamplingProcessor"/> can keep it once the trace turns out slow or
/// failed. A span under a parent that is not recorded at all (a health probe or OTLP ingest request filtered out
/// by the ASP.NET Core instrumentation) is not recorded either.
/// </summary>
public sealed class RecordEverySpanSampler : Sampler
{
    private static readonly SamplingResult Sampled = new(SamplingDecision.RecordAndSample);
    private static readonly SamplingResult Recorded = new(SamplingDecision.RecordOnly);
    private static readonly SamplingResult Dropped = new(SamplingDecision.Drop);

    private readonly TraceIdRatioBasedSampler _ratio;

    public RecordEverySpanSampler(double ratio)
    {
        _ratio = new TraceIdRatioBasedSampler(ratio);
        Description = $"RecordEverySpan{{{ratio}}}";
    }

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        var parent = samplingParameters.ParentContext;
        if (parent.TraceId == default)
        {
            return _ratio.ShouldSample(samplingParameters).Decision == SamplingDecision.RecordAndSample ? Sampled : Recorded;
        }

        if ((parent.TraceFlags & ActivityTraceFlags.Recorded) != 0)
        {
            return Sampled;
        }

        // A local parent that was dropped (not merely unsampled) is the current activity while its child starts.
        if (!parent.IsRemote && Activity.Current is { } current && current.SpanId == parent.SpanId && !current.IsAllDataRequested)
        {
            return Dropped;
        }

        return Recorded;
    }
}
