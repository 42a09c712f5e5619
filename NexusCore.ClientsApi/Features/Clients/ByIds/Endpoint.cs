using FastEndpoints;
using Npgsql;

namespace NexusCore.ClientsApi.Features.Clients.ByIds;

/// <summary><c>POST /api/v1/optimized/clients/by-ids</c>: up to 1,000 clients in one query, in request order, with the missing ids.</summary>
public sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, Response>
{
    public override void Configure()
    {
        Post("by-ids");
        Group<OptimizedClientsGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.Produces<Response>().ProducesProblemFE(400));
        Summary(s => s.Summary = "Clients by ids");
    }

    public override async Task HandleAsync(Request request, CancellationToken ct) =>
        await Send.OkAsync(await Data.FindAsync(db, request.Ids!, ct), ct);
}
