namespace NexusCore.PerfApi.Ingest;

internal static partial class OtlpLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused an OTLP {Signal} payload with {Status}: {Code}")]
    public static partial void PayloadRefused(ILogger logger, string signal, int status, string code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped {Items} OTLP {Signal} items: the ingest queue is full")]
    public static partial void QueueFull(ILogger logger, string signal, int items);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped {Points} OTLP metric points with a NaN or infinite value")]
    public static partial void NonFinitePoints(ILogger logger, int points);
}
