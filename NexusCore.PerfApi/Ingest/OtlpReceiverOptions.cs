using System.ComponentModel.DataAnnotations;

namespace NexusCore.PerfApi.Ingest;

/// <summary>Limits of the OTLP/HTTP receiver (section <c>Telemetry:Receiver</c>).</summary>
public sealed class OtlpReceiverOptions
{
    public const string Section = "Telemetry:Receiver";

    /// <summary>
    /// Largest accepted payload in bytes, both as sent and once decompressed (so a small gzip bomb is cut off
    /// after this many bytes, too). Larger payloads answer 413.
    /// </summary>
    [Range(1024, 256 * 1024 * 1024)]
    public int MaxPayloadBytes { get; set; } = 4 * 1024 * 1024;
}
