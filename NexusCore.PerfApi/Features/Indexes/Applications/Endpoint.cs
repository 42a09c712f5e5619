using FastEndpoints;
using NexusCore.PerfApi.Analysis.Indexes;
using NexusCore.PerfApi.Contract;

namespace NexusCore.PerfApi.Features.Indexes.Applications;

/// <summary>
/// <c>GET /api/v1/performance/indexes/applications/{applicationId}</c> (reader): an application of a recommendation:
/// its build, and each statement's latency before the build and since (read now), with the change once enough new
/// executions arrived. 404 for an unknown (or long forgotten) application.
/// </summary>
public sealed class Endpoint(IndexApplier applier) : Endpoint<Request, ApplicationResponse>
{
    public override void Configure()
    {
        Get("indexes/applications/{applicationId}");
        Group<PerformanceGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.WithName("getIndexApplication").ClearDefaultProduces().Produces<ApplicationResponse>()
            .ProducesProblems([.. OpenApiDescriptions.KeyedRoute, 404]));
        Summary(s =>
        {
            s.Summary = "An index application: its build and the latency of the statements it serves before and after";
            s.Description = "404 `application_not_found` for an unknown (or long forgotten) application.";
            s.RateLimited();
        });
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        var id = request.ApplicationId;
        if (await applier.ReadAsync(id, ct) is { } application)
        {
            await Send.OkAsync(application, ct);
            return;
        }

        await Send.ResultAsync(TypedResults.Problem(
            detail: $"No index application has the id '{id}'.",
            statusCode: StatusCodes.Status404NotFound,
            extensions: new Dictionary<string, object?> { ["code"] = "application_not_found" }));
    }
}
