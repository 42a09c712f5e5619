using NexusCore.ClientsApi.Extensions;
using FastEndpoints;
using Npgsql;
using NexusCore.ClientsApi.Telemetry;
using NexusCore.ClientsApi.Caching;

namespace NexusCore.ClientsApi.Features.Clients.Delete;

/// <summary><c>DELETE /api/v1/clients/{id}</c>: 204, or 404 when there is no such client.</summary>
public sealed class Endpoint(WriteDatabase writes, CacheInvalidator invalidator, QueryTelemetry telemetry) : Endpoint<Request>
{
    public override void Configure()
    {
        Delete("{id}");
        Group<ClientsGroup>();
        Roles(ApiRoles.Writer);
        Description(d => d.Produces(204).ProducesProblemFE(404));
        Summary(s => s.Summary = "Delete a client");
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        using var query = telemetry.Start("write", "DELETE");
        var deleted = await writes.OneStatementAsync(HttpContext, connection => Data.DeleteAsync(connection, request.Id, ct), ct);
        query.Rows = deleted ? 1 : 0;
        if (!deleted)
        {
            await Send.ResultAsync(TypedResults.Problem(detail: $"No client has id {request.Id}.", statusCode: StatusCodes.Status404NotFound));
            return;
        }

        await invalidator.AfterWriteAsync([request.Id], countsChanged: true);
        await Send.NoContentAsync(ct);
    }
}
