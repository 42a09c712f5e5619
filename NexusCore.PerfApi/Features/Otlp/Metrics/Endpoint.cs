using FastEndpoints;
using Google.Protobuf;
using NexusCore.PerfApi.Contract;
using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Store;
using OpenTelemetry.Proto.Collector.Metrics.V1;

namespace NexusCore.PerfApi.Features.Otlp.Metrics;

/// <summary>
/// <c>POST /v1/metrics</c>: the OTLP/HTTP metrics receiver (binary protobuf, optionally gzip). The payload is
/// decoded here and its points handed to the ingest queue, so the sender waits for decoding only.
/// 200 with an <c>ExportMetricsServiceResponse</c> (partial success when the queue was full); 400, 408, 413, 415,
/// and 429 when every ingest turn is taken, as problem documents (see <see cref="OtlpReceiver"/>).
/// </summary>
public sealed class Endpoint(
    TelemetryIngestQueue queue, TelemetryCounters counters, OtlpReceiver receiver, TimeProvider time, ILogger<Endpoint> logger)
    : Endpoint<EmptyRequest>
{
    private static readonly MessageParser<ExportMetricsServiceRequest> Parser = ExportMetricsServiceRequest.Parser.WithDiscardUnknownFields(true);

    public override void Configure()
    {
        Post("v1/metrics");
        RoutePrefixOverride(string.Empty);
        // Only keys of the ingest role (the AppHost gives exporters one): other keys, admin's included, get 403;
        // no key or an unknown one, 401.
        Roles(ApiRoles.Ingest);
        QueryParameterRules.Apply(Definition);
        Description(d => d
            .WithName("exportMetrics")
            .WithTags("OTLP")
            .ClearDefaultAccepts()
            .ClearDefaultProduces()
            .Produces(200, contentType: OtlpBody.ProtobufMediaType)
            .ProducesProblems([.. OpenApiDescriptions.KeyedRoute, 408, .. OpenApiDescriptions.BodyRoute])
            .WithMetadata(new ProtobufBody(
                "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest",
                "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse",
                "Refused: a body over `Telemetry:Receiver:MaxPayloadBytes` (4 MiB by default) as sent or decompressed (413), more than 10,000 data points (by default) " +
                "or other item limits (413), a body that does not arrive within `Telemetry:Receiver:BodyReadTimeout` (408), " +
                "malformed protobuf or gzip (400), and 429 (with `Retry-After`) while every ingest turn is taken.")));
        Summary(s =>
        {
            s.Summary = "Receive OpenTelemetry metrics (OTLP/HTTP, application/x-protobuf, optionally gzip)";
            s.Description = "Only keys of the `ingest` role; any other key, the admin's included, gets 403.";
            s.RetryAfter(429, OtlpReceiver.RetryAfterSeconds, "Seconds before the export is worth retrying (every ingest turn was taken, or the caller's rate limit was reached).");
        });
    }

    public override async Task HandleAsync(EmptyRequest _, CancellationToken ct)
    {
        using var turn = await receiver.WaitForTurnAsync(ct);
        if (!turn.IsAcquired)
        {
            await RefuseAsync(OtlpReceiver.Busy(receiver.Limits.MaxConcurrentRequests, receiver.Limits.MaxQueuedRequests));
            return;
        }

        var (request, problem) = await receiver.ReadAsync(HttpContext.Request, Parser, OtlpSignal.Metrics, ct);
        if (request is null)
        {
            await RefuseAsync(problem!);
            return;
        }

        var batch = MetricsDecoder.Decode(request);
        var queued = queue.TryEnqueue(batch);
        counters.MetricPointsReceived(batch.ReceivedPoints, batch.Points.Count, batch.UnsupportedPoints, queued, batch.NonFinitePoints);
        counters.PayloadAccepted(time.GetUtcNow());

        // Points with a NaN or an infinity are dropped one by one, not the payload: an export carries every
        // instrument of a service, and a 400 would make the exporter drop the good points with the bad.
        // Partial success tells the sender (OTLP/HTTP: not to be retried).
        var response = new ExportMetricsServiceResponse();
        var reasons = new List<string>();
        if (batch.NonFinitePoints > 0)
        {
            OtlpLog.NonFinitePoints(logger, batch.NonFinitePoints);
            reasons.Add($"{batch.NonFinitePoints} data points had a NaN or infinite value and were dropped.");
        }

        if (!queued)
        {
            OtlpLog.QueueFull(logger, "metrics", batch.Points.Count);
            reasons.Add(batch.NonFinitePoints > 0
                ? $"PerfApi's ingest queue is full; the other {batch.Points.Count} data points were dropped."
                : "PerfApi's ingest queue is full; these data points were dropped.");
        }

        if (reasons.Count > 0)
        {
            response.PartialSuccess = new ExportMetricsPartialSuccess
            {
                RejectedDataPoints = batch.NonFinitePoints + (queued ? 0 : batch.Points.Count),
                ErrorMessage = string.Join(" ", reasons),
            };
        }

        await Send.BytesAsync(response.ToByteArray(), contentType: OtlpBody.ProtobufMediaType, cancellation: ct);
    }

    private Task RefuseAsync(PayloadProblem problem)
    {
        counters.PayloadRejected(problem.Reason);
        OtlpLog.PayloadRefused(logger, "metrics", problem.Status, problem.Code);
        return OtlpReceiver.WriteProblemAsync(HttpContext, problem);
    }
}
