using FastEndpoints;
using NexusCore.PerfApi.Contract;
using NexusCore.PerfApi.Integrations;

namespace NexusCore.PerfApi.Features.Cache.Clear;

/// <summary>
/// <c>POST /api/v1/performance/cache/clear</c> (admin): clears the ClientsApi cache on every instance by calling
/// ClientsApi's own admin-only clear with the caller's key, which reaches the other instances through the cache
/// backplane. 204 when done; 503 when ClientsApi cannot be reached; 502 when it refuses.
/// </summary>
public sealed class Endpoint(ClientsApiClient clientsApi) : Endpoint<EmptyRequest>
{
    public const int RetryAfterSeconds = 5;

    public override void Configure()
    {
        Post("cache/clear");
        Group<PerformanceGroup>();
        Roles(ApiRoles.Admin);
        Description(d => d.WithName("clearCache").ClearDefaultProduces().Produces(204)
            .ProducesProblems([.. OpenApiDescriptions.KeyedRoute, 502, 503]));
        Summary(s =>
        {
            s.Summary = "Clear the ClientsApi cache on every instance";
            s.Description = "Calls ClientsApi's own admin-only clear with the caller's key. 502 `clients_api_failed` when ClientsApi refuses; " +
                            "503 `clients_api_unavailable` when it cannot be reached.";
            s.RateLimited().RetryAfter(503, RetryAfterSeconds, "Seconds before ClientsApi is worth calling again.");
        });
    }

    public override async Task HandleAsync(EmptyRequest request, CancellationToken ct)
    {
        var result = await clientsApi.ClearCacheAsync(ApiKeyAuthentication.PresentedKey(HttpContext.Request)!, ct);
        if (result.Outcome == ClientsApiOutcome.Succeeded)
        {
            await Send.NoContentAsync(ct);
            return;
        }

        var (status, code) = result.Outcome switch
        {
            ClientsApiOutcome.Failed => (StatusCodes.Status502BadGateway, "clients_api_failed"),
            _ => (StatusCodes.Status503ServiceUnavailable, "clients_api_unavailable"),
        };
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            HttpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await Send.ResultAsync(TypedResults.Problem(
            detail: result.Detail,
            statusCode: status,
            title: "The ClientsApi cache could not be cleared",
            extensions: new Dictionary<string, object?> { ["code"] = code }));
    }
}
