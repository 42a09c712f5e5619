using FastEndpoints;

namespace NexusCore.PerfApi.Contract;

/// <summary>What the endpoints declare in the OpenAPI document: the problems each can answer and the headers sent with them.</summary>
public static class OpenApiDescriptions
{
    /// <summary>Every route: a refused query parameter (400), and the rate limiter's 429 (section <c>RateLimiting</c>).</summary>
    public static readonly int[] AnyRoute = [400, 429];

    /// <summary>A route that needs a key: none or an unknown one is 401, one without the role 403.</summary>
    public static readonly int[] KeyedRoute = [400, 401, 403, 429];

    /// <summary>A route that reads a body: too large (413), not of its media type (415).</summary>
    public static readonly int[] BodyRoute = [413, 415];

    /// <summary>Declares an RFC 9457 problem (<c>application/problem+json</c>) for each status.</summary>
    public static RouteHandlerBuilder ProducesProblems(this RouteHandlerBuilder builder, params IEnumerable<int> statuses)
    {
        foreach (var status in statuses.Distinct().Order())
        {
            builder.ProducesProblemFE<FastEndpoints.ProblemDetails>(status);
        }

        return builder;
    }

    /// <summary>Documents the <c>Retry-After</c> header (seconds) a response of <paramref name="status"/> carries.</summary>
    public static EndpointSummary RetryAfter(this EndpointSummary summary, int status, int exampleSeconds, string description)
    {
        summary.ResponseHeaders.Add(new ResponseHeader(status, "Retry-After") { Description = description, Example = exampleSeconds });
        return summary;
    }

    /// <summary>The rate limiter's 429 says when the caller's bucket has a token again.</summary>
    public static EndpointSummary RateLimited(this EndpointSummary summary) =>
        summary.RetryAfter(429, 1, "Seconds until the caller's rate-limit bucket (per key, and per address) has a request again.");
}

/// <summary>
/// Marks a route whose body is OTLP/HTTP binary protobuf (<see cref="ParameterSchemaProcessor"/> documents it as
/// <c>application/x-protobuf</c>, a binary string, optionally gzip-compressed, and the 200 answer likewise).
/// </summary>
/// <param name="RequestMessage">The protobuf message of the body, e.g. <c>opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest</c>.</param>
/// <param name="ResponseMessage">The protobuf message of the 200 answer.</param>
/// <param name="Limits">What the receiver refuses, in words, for the body's description.</param>
public sealed record ProtobufBody(string RequestMessage, string ResponseMessage, string Limits);

/// <summary>
/// Marks a POST whose JSON body of <paramref name="Schema"/> may be left out (<see cref="JsonBodyWhenPresent"/>):
/// documented as an optional <c>application/json</c> body, without the route's own parameters.
/// </summary>
public sealed record OptionalJsonBody(Type Schema);
