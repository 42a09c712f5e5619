using NexusCore.ClientsApi.Extensions;
using FastEndpoints;
using Npgsql;
using NexusCore.ClientsApi.Telemetry;
using NexusCore.ClientsApi.Caching;

namespace NexusCore.ClientsApi.Features.Clients.Patch;

/// <summary>
/// <c>PATCH /api/v1/clients/{id}</c>: changes the given fields. With <c>If-Match</c> (the client's ETag)
/// the change applies only to that version, else 412.
/// </summary>
public sealed class Endpoint(WriteDatabase writes, CacheInvalidator invalidator, QueryTelemetry telemetry) : Endpoint<Request, Client>
{
    public override void Configure()
    {
        Patch("{id}");
        Group<ClientsGroup>();
        Roles(ApiRoles.Writer);
        Description(d => d.ClearDefaultProduces().WithName("updateClient").Produces<Client>().Problems(404, 409, 412, 413, 415, 503));
        Summary(s =>
        {
            s.Summary = "Update some fields of a client";
            s.Description = "Changes the fields given. With If-Match the change applies only to a version it names, else 412 with the current ETag. "
                + "A 503's outcome says whether the change may have been applied. Role: writer.";
            s.ResponseHeaders.Add(new ResponseHeader(200, "ETag") { Description = "The client's new ETag." });
            s.ResponseHeaders.Add(new ResponseHeader(412, "ETag") { Description = "The client's current ETag." });
            s.RetryAfterHeaders();
            s.ExampleRequest = new Request { Name = "Ada Lovelace", Status = "inactive" };
        });
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        int[]? expectedVersions = null;
        if (request.IfMatch is { } ifMatch)
        {
            if (!ClientETag.TryParseIfMatch(ifMatch, request.Id, out expectedVersions))
            {
                ValidationFailures.Add(ClientProblems.InvalidIfMatch());
                await Send.ErrorsAsync(StatusCodes.Status400BadRequest, ct);
                return;
            }
        }

        using var query = telemetry.Start("write", "UPDATE");
        var (outcome, client) = await writes.OneStatementAsync(
            HttpContext,
            connection => Data.UpdateAsync(
                connection,
                request.Id,
                request.Name?.Trim(),
                request.Email?.Trim(),
                ClientRules.NormalizeStatus(request.Status),
                ClientRules.NormalizeProgramType(request.ProgramType),
                expectedVersions,
                ct),
            ct);

        query.Rows = outcome == PatchOutcome.Updated ? 1 : 0;
        switch (outcome)
        {
            case PatchOutcome.Updated:
                await invalidator.AfterWriteAsync([request.Id], countsChanged: request.Status is not null || request.ProgramType is not null);
                HttpContext.Response.Headers.ETag = ClientETag.For(client!);
                await Send.OkAsync(client!, ct);
                break;
            case PatchOutcome.NotFound:
                await Send.ResultAsync(ClientProblems.NotFound(request.Id));
                break;
            case PatchOutcome.VersionMismatch:
                await Send.ResultAsync(ClientProblems.PreconditionFailed(HttpContext, client!));
                break;
            case PatchOutcome.EmailTaken:
                AddError(r => r.Email, "A client with this email already exists.", "email_taken");
                await Send.ErrorsAsync(StatusCodes.Status409Conflict, ct);
                break;
        }
    }
}
