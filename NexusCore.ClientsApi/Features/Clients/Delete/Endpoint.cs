using NexusCore.ClientsApi.Extensions;
using FastEndpoints;
using Npgsql;
using NexusCore.ClientsApi.Telemetry;
using NexusCore.ClientsApi.Caching;

namespace NexusCore.ClientsApi.Features.Clients.Delete;

/// <summary>
/// <c>DELETE /api/v1/clients/{id}</c>: 204, or 404 when there is no such client. With <c>If-Match</c>
/// (as for PATCH) the client is deleted only at a version it names, else 412 with its current ETag.
/// </summary>
public sealed class Endpoint(WriteDatabase writes, CacheInvalidator invalidator, QueryTelemetry telemetry) : Endpoint<Request>
{
    public override void Configure()
    {
        Delete("{id}");
        Group<ClientsGroup>();
        Roles(ApiRoles.Writer);
        Description(d => d.ClearDefaultProduces().WithName("deleteClient").Produces(204).Problems(404, 412, 503));
        Summary(s =>
        {
            s.Summary = "Delete a client";
            s.Description = "Deletes the client; with If-Match only at a version it names, else 412 with the current ETag. Role: writer.";
            s.ResponseHeaders.Add(new ResponseHeader(412, "ETag") { Description = "The client's current ETag." });
            s.RetryAfterHeaders();
        });
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        int[]? expectedVersions = null;
        if (request.IfMatch is { } ifMatch && !ClientETag.TryParseIfMatch(ifMatch, request.Id, out expectedVersions))
        {
            ValidationFailures.Add(ClientProblems.InvalidIfMatch());
            await Send.ErrorsAsync(StatusCodes.Status400BadRequest, ct);
            return;
        }

        using var query = telemetry.Start("write", "DELETE");
        var (outcome, current) = await writes.OneStatementAsync(
            HttpContext, connection => Data.DeleteAsync(connection, request.Id, expectedVersions, ct), ct);
        query.Rows = outcome == DeleteOutcome.Deleted ? 1 : 0;
        switch (outcome)
        {
            case DeleteOutcome.Deleted:
                await invalidator.AfterWriteAsync([request.Id], countsChanged: true);
                await Send.NoContentAsync(ct);
                break;
            case DeleteOutcome.NotFound:
                await Send.ResultAsync(ClientProblems.NotFound(request.Id));
                break;
            case DeleteOutcome.VersionMismatch:
                await Send.ResultAsync(ClientProblems.PreconditionFailed(HttpContext, current!));
                break;
        }
    }
}
