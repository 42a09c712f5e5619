using FastEndpoints;
using Npgsql;

namespace NexusCore.ClientsApi.Features.Clients.Get;

/// <summary><c>GET /api/v1/clients/{id}</c>: one client, or 404.</summary>
public sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, Client>
{
    public override void Configure()
    {
        Get("{id}");
        Group<ClientsGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.Produces<Client>().ProducesProblemFE(400).ProducesProblemFE(404));
        Summary(s => s.Summary = "Get a client by id");
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        var client = await Data.FindAsync(db, request.Id, ct);
        if (client is null)
        {
            await Send.ResultAsync(TypedResults.Problem(detail: $"No client has id {request.Id}.", statusCode: StatusCodes.Status404NotFound));
            return;
        }

        await Send.OkAsync(client, ct);
    }
}
