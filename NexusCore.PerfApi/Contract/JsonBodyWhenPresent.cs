using FastEndpoints;

namespace NexusCore.PerfApi.Contract;

/// <summary>
/// For a POST whose JSON body may be left out (every field has a default): a request without a body runs with the
/// defaults, and a body of any other media type is a 415 problem, never ignored. (Routing's own check, an optional
/// <c>Accepts</c>, would also refuse a request with no body and no <c>Content-Type</c>.) Documented through
/// <see cref="OptionalJsonBody"/>.
/// </summary>
internal sealed class JsonBodyWhenPresent : IGlobalPreProcessor
{
    public static void Apply(EndpointDefinition endpoint) => endpoint.PreProcessors(Order.Before, new JsonBodyWhenPresent());

    public Task PreProcessAsync(IPreProcessorContext context, CancellationToken ct)
    {
        var http = context.HttpContext;
        var request = http.Request;
        if (http.ResponseStarted() || !HasBody(request) || request.HasJsonContentType())
        {
            return Task.CompletedTask;
        }

        return TypedResults.Problem(
            detail: string.IsNullOrEmpty(request.ContentType)
                ? "The request has a body but no Content-Type; send application/json, or no body for the defaults."
                : "The body, when there is one, must be JSON (application/json).",
            statusCode: StatusCodes.Status415UnsupportedMediaType,
            extensions: new Dictionary<string, object?> { ["code"] = "content_type_unsupported" }).ExecuteAsync(http);
    }

    private static bool HasBody(HttpRequest request) =>
        request.ContentLength is > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0) || request.ContentType is not null;
}
