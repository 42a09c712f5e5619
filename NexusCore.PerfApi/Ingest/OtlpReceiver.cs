using System.Globalization;
using System.Threading.RateLimiting;
using Google.Protobuf;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Store;

namespace NexusCore.PerfApi.Ingest;

/// <summary>
/// What both OTLP routes do before decoding: wait for one of <see cref="OtlpReceiverOptions.MaxConcurrentRequests"/>
/// turns (in a line of at most <see cref="OtlpReceiverOptions.MaxQueuedRequests"/>, oldest first; beyond it 429),
/// read the body within its size limit, count its items against the limits without materializing them, parse it,
/// and cut long strings. A request waiting for its turn has not been read yet, so the line costs no memory.
/// </summary>
public sealed class OtlpReceiver(IOptions<OtlpReceiverOptions> options, TelemetryCounters counters) : IDisposable
{
    /// <summary>Seconds a sender refused for lack of a turn is told to wait; decoding one export takes milliseconds.</summary>
    public const int RetryAfterSeconds = 1;

    private readonly ConcurrencyLimiter _turns = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = options.Value.MaxConcurrentRequests,
        QueueLimit = options.Value.MaxQueuedRequests,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    internal OtlpReceiverOptions Limits { get; } = options.Value;

    /// <summary>A turn to read and decode; not acquired when every turn and the line are taken.</summary>
    internal ValueTask<RateLimitLease> WaitForTurnAsync(CancellationToken ct) => _turns.AcquireAsync(1, ct);

    /// <summary>Reads, checks and parses an export; exactly one of the message and the problem is set.</summary>
    internal async Task<(T? Message, PayloadProblem? Problem)> ReadAsync<T>(HttpRequest request, MessageParser<T> parser, OtlpSignal signal, CancellationToken ct)
        where T : class, IMessage<T>
    {
        OtlpPayload? payload;
        PayloadProblem? problem;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            deadline.CancelAfter(Limits.BodyReadTimeout);
            try
            {
                (payload, problem) = await OtlpBody.ReadAsync(request, Limits.MaxPayloadBytes, deadline.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return (null, TooSlow(Limits.BodyReadTimeout));
            }
        }

        if (payload is null)
        {
            return (null, problem);
        }

        using (payload)
        {
            var shape = OtlpLimits.Check(payload.Span, signal, Limits);
            if (shape.Problem is { } refused)
            {
                return (null, refused);
            }

            T message;
            try
            {
                message = parser.ParseFrom(payload.Span);
            }
            catch (InvalidProtocolBufferException)
            {
                return (null, OtlpBody.Malformed(signal == OtlpSignal.Traces ? "traces" : "metrics"));
            }

            if (shape.HasLongStrings && Truncate(message))
            {
                counters.PayloadTruncated();
            }

            return (message, null);
        }
    }

    internal static PayloadProblem Busy(int turns, int line) => new(
        StatusCodes.Status429TooManyRequests, PayloadRejection.Busy, "request", "ingest_busy",
        $"PerfApi is decoding {turns} exports and {line} more are waiting; retry after {RetryAfterSeconds} s.", turns);

    private static PayloadProblem TooSlow(TimeSpan timeout) => new(
        StatusCodes.Status408RequestTimeout, PayloadRejection.TooSlow, "body", "body_too_slow",
        $"The body did not arrive within {timeout.TotalSeconds:0.###} s of the request's turn.", (int)timeout.TotalMilliseconds);

    /// <summary>Writes a refusal as a problem document: the error entry names the rule, and <c>limit</c> its value.</summary>
    internal static async Task WriteProblemAsync(HttpContext http, PayloadProblem problem)
    {
        http.Response.StatusCode = problem.Status;
        if (problem.Status == StatusCodes.Status429TooManyRequests)
        {
            http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        }

        var details = new ProblemDetails { Status = problem.Status, Detail = problem.Message };
        details.Extensions["errors"] = new[] { new OtlpError(problem.Field, problem.Message, problem.Code) };
        if (problem.Limit is { } limit)
        {
            details.Extensions["limit"] = limit;
        }

        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = details });
    }

    public void Dispose() => _turns.Dispose();

    private bool Truncate(object message) => message switch
    {
        OpenTelemetry.Proto.Collector.Trace.V1.ExportTraceServiceRequest traces => OtlpTruncation.Apply(traces, Limits),
        OpenTelemetry.Proto.Collector.Metrics.V1.ExportMetricsServiceRequest metrics => OtlpTruncation.Apply(metrics, Limits),
        _ => false,
    };

    /// <summary>The same error entry as every other problem of the APIs (name, reason, code).</summary>
    private sealed record OtlpError(string Name, string Reason, string Code);
}
