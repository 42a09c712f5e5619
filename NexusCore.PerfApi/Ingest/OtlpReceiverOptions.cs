using System.ComponentModel.DataAnnotations;

namespace NexusCore.PerfApi.Ingest;

/// <summary>
/// Limits of the OTLP/HTTP receiver (section <c>Telemetry:Receiver</c>). Together they bound what one request
/// can make PerfApi hold: the body, the messages parsed from it, and the strings that become series keys.
/// </summary>
public sealed class OtlpReceiverOptions : IValidatableObject
{
    public const string Section = "Telemetry:Receiver";

    /// <summary>
    /// Largest accepted payload in bytes, both as sent and once decompressed (so a small gzip bomb is cut off
    /// after this many bytes, too). Larger payloads answer 413.
    /// </summary>
    [Range(1024, 256 * 1024 * 1024)]
    public int MaxPayloadBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Spans in one trace export; more answer 413 <c>too_many_spans</c> (exporters batch 512 by default).</summary>
    [Range(1, 1_000_000)]
    public int MaxSpansPerRequest { get; set; } = 10_000;

    /// <summary>Data points in one metrics export; more answer 413 <c>too_many_data_points</c>.</summary>
    [Range(1, 1_000_000)]
    public int MaxDataPointsPerRequest { get; set; } = 10_000;

    /// <summary>
    /// Attributes of one resource, scope, span, metric or data point, the values inside array and map values
    /// included; more answer 400 <c>too_many_attributes</c> (the SDKs' own default limit is 128 per span).
    /// </summary>
    [Range(1, 10_000)]
    public int MaxAttributesPerItem { get; set; } = 64;

    /// <summary>
    /// Buckets of one histogram point: an explicit histogram's bucket counts (and bounds + 1), each range
    /// (positive, negative) of an exponential one; more answer 400 <c>too_many_buckets</c>. 320 is the exponential size
    /// ClientsApi exports <c>nexuscore.query.duration</c> with (the SDKs' default is 160).
    /// </summary>
    [Range(2, 10_000)]
    public int MaxBucketsPerPoint { get; set; } = 320;

    /// <summary>
    /// Characters kept of an attribute key or value (service names included), a metric name or unit: longer ones
    /// are cut before they become part of a series key. Array and map values are cut as their text.
    /// </summary>
    [Range(16, 65_536)]
    public int MaxAttributeLength { get; set; } = 256;

    /// <summary>Characters kept of a statement text (<c>db.query.text</c>, <c>db.statement</c>), before it is normalized.</summary>
    [Range(64, 1_048_576)]
    public int MaxStatementTextLength { get; set; } = 8192;

    /// <summary>Requests read and decoded at once (both routes together); the others wait in line.</summary>
    [Range(1, 1024)]
    public int MaxConcurrentRequests { get; set; } = 4;

    /// <summary>
    /// How long a request may take to send its body once it has a turn; a slower one answers 408
    /// <c>body_too_slow</c>, so that a sender trickling bytes cannot hold a turn.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan BodyReadTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Requests waiting for a turn, oldest first; one more answers 429 with <c>Retry-After</c>.</summary>
    [Range(0, 100_000)]
    public int MaxQueuedRequests { get; set; } = 64;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MaxStatementTextLength < MaxAttributeLength)
        {
            yield return new ValidationResult(
                "Telemetry:Receiver:MaxStatementTextLength must be at least Telemetry:Receiver:MaxAttributeLength.",
                [nameof(MaxStatementTextLength)]);
        }
    }
}
