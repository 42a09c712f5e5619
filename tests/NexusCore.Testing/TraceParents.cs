using System.Diagnostics;

namespace NexusCore.Testing;

/// <summary>
/// W3C <c>traceparent</c> headers a test sends as a caller would: the services export a trace a caller marked sampled
/// (<c>…-01</c>) whatever their own sample ratio, and decide for themselves on one marked unsampled (<c>…-00</c>).
/// </summary>
public static class TraceParents
{
    public const string Header = "traceparent";

    /// <summary>A new trace: its id (32 hex digits) and the header that starts it.</summary>
    public static (string TraceId, string Header) New(bool sampled)
    {
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        return (traceId, $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-{(sampled ? "01" : "00")}");
    }

    /// <summary>
    /// Gives every request without a <c>traceparent</c> a new sampled one: for tests that read what the services
    /// export about their own requests (PerfApi's figures from query spans), so those requests are exported
    /// deterministically, as a sampled caller's are, while the stack keeps its default ratio.
    /// </summary>
    public sealed class SampledHandler() : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (!request.Headers.Contains(Header))
            {
                request.Headers.Add(Header, New(sampled: true).Header);
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
