using NexusCore.ClientsApi.Extensions;
using FastEndpoints;
using Npgsql;
using NexusCore.ClientsApi.Telemetry;
using NexusCore.ClientsApi.Caching;

namespace NexusCore.ClientsApi.Features.Clients.Create;

/// <summary><c>POST /api/v1/clients</c>: creates a client (201 with its Location and ETag); 409 when the email is taken in any letter case.</summary>
public sealed class Endpoint(WriteDatabase writes, CacheInvalidator invalidator, QueryTelemetry telemetry) : Endpoint<Request, Client>
{
    public override void Configure()
    {
        Post("");
        Group<ClientsGroup>();
        Roles(ApiRoles.Writer);
        Description(d => d.ClearDefaultProduces().WithName("createClient").Produces<Client>(201).Problems(409, 413, 415, 503));
        Summary(s =>
        {
            s.Summary = "Create a client";
            s.Description = "Creates a client; 409 email_taken when its email is taken in any letter case. Role: writer.";
            s.ResponseHeaders.Add(new ResponseHeader(201, "Location") { Description = "The new client's URL." });
            s.ResponseHeaders.Add(new ResponseHeader(201, "ETag") { Description = "The new client's ETag, for a PATCH with If-Match." });
            s.RetryAfterHeaders();
            s.ExampleRequest = new Request { Name = "Ada Lovelace", Email = "ada@example.com", ProgramType = "PRIME" };
        });
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        using var query = telemetry.Start("write", "INSERT");
        var created = await writes.OneStatementAsync(
            HttpContext,
            connection => Data.InsertAsync(
                connection,
                request.Name!.Trim(),
                request.Email!.Trim(),
                ClientRules.NormalizeStatus(request.Status) ?? "active",
                ClientRules.NormalizeProgramType(request.ProgramType)!,
                ct),
            ct);

        query.Rows = created is null ? 0 : 1;
        if (created is null)
        {
            AddError(r => r.Email, "A client with this email already exists.", "email_taken");
            await Send.ErrorsAsync(StatusCodes.Status409Conflict, ct);
            return;
        }

        await invalidator.AfterWriteAsync([created.Id], countsChanged: true);

        // The new client's ETag, as GET and PATCH return it, so a frontend can PATCH with If-Match
        // straight after creating without reading the client back.
        HttpContext.Response.Headers.ETag = ClientETag.For(created);
        // By the GET route's name, which is also its operation id (a type-based lookup would miss the name it was given).
        await Send.CreatedAtAsync(Clients.Get.Endpoint.Name, new { id = created.Id }, created, cancellation: ct);
    }
}
