using FastEndpoints;
using FluentValidation.Results;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Telemetry;
using OpenTelemetry.Proto.Collector.Metrics.V1;

namespace NexusCore.PerfApi.Features.Otlp.Metrics;

/// <summary>
/// <c>POST /v1/metrics</c>: the OTLP/HTTP metrics receiver (binary protobuf, optionally gzip). The payload is
/// decoded here and its points handed to the ingest queue, so the sender waits for decoding only.
/// 200 with an <c>ExportMetricsServiceResponse</c> (partial success when the queue was full); 400, 413, 415
/// as problem documents.
/// </summary>
public sealed class Endpoint(
    TelemetryIngestQueue queue, TelemetryCounters counters, IOptions<OtlpReceiverOptions> options, TimeProvider time, ILogger<Endpoint> logger)
    : EndpointWithoutRequest
{
    private static readonly MessageParser<ExportMetricsServiceRequest> Parser = ExportMetricsServiceRequest.Parser.WithDiscardUnknownFields(true);

    public override void Configure()
    {
        Post("v1/metrics");
        RoutePrefixOverride(string.Empty);
        // The AppHost gives exporters the ingest key (X-Api-Key); anything else gets 401.
        Roles(ApiRoles.Ingest);
        Description(d => d
            .WithTags("OTLP")
            .Produces(200, contentType: OtlpBody.ProtobufMediaType)
            .ProducesProblemFE(400)
            .ProducesProblemFE(401)
            .ProducesProblemFE(413)
            .ProducesProblemFE(415));
        Summary(s => s.Summary = "Receive OpenTelemetry metrics (OTLP/HTTP, application/x-protobuf, optionally gzip)");
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        var (payload, problem) = await OtlpBody.ReadAsync(HttpContext.Request, options.Value.MaxPayloadBytes, ct);
        ExportMetricsServiceRequest? request = null;
        using (payload)
        {
            try
            {
                request = payload is null ? null : Parser.ParseFrom(payload.Span);
            }
            catch (InvalidProtocolBufferException)
            {
                problem = OtlpBody.Malformed("metrics");
            }
        }

        if (request is null)
        {
            await RefuseAsync(problem!, ct);
            return;
        }

        var batch = Decoder.Decode(request);
        var queued = queue.TryEnqueue(batch);
        counters.MetricPointsReceived(batch.ReceivedPoints, batch.Points.Count, batch.UnsupportedPoints, queued);
        counters.PayloadAccepted(time.GetUtcNow());

        var response = new ExportMetricsServiceResponse();
        if (!queued)
        {
            OtlpLog.QueueFull(logger, "metrics", batch.Points.Count);
            response.PartialSuccess = new ExportMetricsPartialSuccess
            {
                RejectedDataPoints = batch.Points.Count,
                ErrorMessage = "PerfApi's ingest queue is full; these data points were dropped.",
            };
        }

        await Send.BytesAsync(response.ToByteArray(), contentType: OtlpBody.ProtobufMediaType, cancellation: ct);
    }

    private Task RefuseAsync(PayloadProblem problem, CancellationToken ct)
    {
        counters.PayloadRejected(problem.Reason);
        OtlpLog.PayloadRefused(logger, "metrics", problem.Status, problem.Code);
        AddError(new ValidationFailure(problem.Field, problem.Message) { ErrorCode = problem.Code });
        return Send.ErrorsAsync(problem.Status, ct);
    }
}
