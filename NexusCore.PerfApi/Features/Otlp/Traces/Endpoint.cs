using FastEndpoints;
using Google.Protobuf;
using NexusCore.PerfApi.Contract;
using NexusCore.PerfApi.Ingest;
using NexusCore.PerfApi.Store;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace NexusCore.PerfApi.Features.Otlp.Traces;

/// <summary>
/// <c>POST /v1/traces</c>: the OTLP/HTTP trace receiver (binary protobuf, optionally gzip). The payload is
/// decoded here and its query spans handed to the ingest queue, so the sender waits for decoding only.
/// 200 with an <c>ExportTraceServiceResponse</c> (partial success when the queue was full); 400, 408, 413, 415,
/// and 429 when every ingest turn is taken, as problem documents (see <see cref="OtlpReceiver"/>).
/// </summary>
public sealed class Endpoint(
    TelemetryIngestQueue queue, TelemetryCounters counters, OtlpReceiver receiver, TimeProvider time, ILogger<Endpoint> logger)
    : Endpoint<EmptyRequest>
{
    private static readonly MessageParser<ExportTraceServiceRequest> Parser = ExportTraceServiceRequest.Parser.WithDiscardUnknownFields(true);

    public override void Configure()
    {
        Post("v1/traces");
        RoutePrefixOverride(string.Empty);
        // Only keys of the ingest role (the AppHost gives exporters one): other keys, admin's included, get 403;
        // no key or an unknown one, 401.
        Roles(ApiRoles.Ingest);
        QueryParameterRules.Apply(Definition);
        Description(d => d
            .WithName("exportTraces")
            .WithTags("OTLP")
            .ClearDefaultAccepts()
            .ClearDefaultProduces()
            .Produces(200, contentType: OtlpBody.ProtobufMediaType)
            .ProducesProblems([.. OpenApiDescriptions.KeyedRoute, 408, .. OpenApiDescriptions.BodyRoute])
            .WithMetadata(new ProtobufBody(
                "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
                "opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse",
                "Refused: a body over `Telemetry:Receiver:MaxPayloadBytes` (4 MiB by default) as sent or decompressed (413), more than 10,000 spans (by default) " +
                "or other item limits (413), a body that does not arrive within `Telemetry:Receiver:BodyReadTimeout` (408), " +
                "malformed protobuf or gzip (400), and 429 (with `Retry-After`) while every ingest turn is taken.")));
        Summary(s =>
        {
            s.Summary = "Receive OpenTelemetry traces (OTLP/HTTP, application/x-protobuf, optionally gzip)";
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

        var (request, problem) = await receiver.ReadAsync(HttpContext.Request, Parser, OtlpSignal.Traces, ct);
        if (request is null)
        {
            await RefuseAsync(problem!);
            return;
        }

        var batch = TracesDecoder.Decode(request);
        var queued = queue.TryEnqueue(batch);
        counters.SpansReceived(batch.ReceivedSpans, batch.QuerySpans.Count, queued);
        counters.PayloadAccepted(time.GetUtcNow());

        var response = new ExportTraceServiceResponse();
        if (!queued)
        {
            OtlpLog.QueueFull(logger, "traces", batch.QuerySpans.Count);
            response.PartialSuccess = new ExportTracePartialSuccess
            {
                RejectedSpans = batch.QuerySpans.Count,
                ErrorMessage = "PerfApi's ingest queue is full; these query spans were dropped.",
            };
        }

        await Send.BytesAsync(response.ToByteArray(), contentType: OtlpBody.ProtobufMediaType, cancellation: ct);
    }

    private Task RefuseAsync(PayloadProblem problem)
    {
        counters.PayloadRejected(problem.Reason);
        OtlpLog.PayloadRefused(logger, "traces", problem.Status, problem.Code);
        return OtlpReceiver.WriteProblemAsync(HttpContext, problem);
    }
}
