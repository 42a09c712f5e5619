using FastEndpoints;
using NexusCore.PerfApi.Analysis.Indexes;

namespace NexusCore.PerfApi.Features.Indexes.Applications;

/// <summary>
/// <c>GET /api/v1/performance/indexes/applications/{applicationId}</c> (reader): an application of a recommendation:
/// its build, and each statement's latency before the build and since (read now), with the change once enough new
/// executions arrived. 404 for an unknown (or long forgotten) application.
/// </summary>
public sealed class Endpoint(IndexApplier applier) : EndpointWithoutRequest<ApplicationResponse>
{
    public override void Configure()
    {
        Get("indexes/applications/{applicationId}");
        Group<PerformanceGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.Produces<ApplicationResponse>().ProducesProblemFE(400).ProducesProblemFE(401).ProducesProblemFE(403).ProducesProblemFE(404));
        Summary(s => s.Summary = "An index application: its build and the latency of the statements it serves before and after");
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        var parameters = new QueryParameters(HttpContext.Request.Query);
        if (parameters.Errors.Count > 0)
        {
            await this.SendQueryErrorsAsync(parameters.Errors, ct);
            return;
        }

        var id = Route<string>("applicationId") ?? "";
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
