using FastEndpoints;
using Npgsql;

namespace NexusCore.ClientsApi.Features.Clients.Dashboard;

/// <summary><c>GET /api/v1/optimized/clients/dashboard</c>: total, active, PRIME and LONGEVITY clients and the active rate, exact.</summary>
public sealed class Endpoint(NpgsqlDataSource db) : EndpointWithoutRequest<Response>
{
    public override void Configure()
    {
        Get("dashboard");
        Group<OptimizedClientsGroup>();
        Roles(ApiRoles.Reader);
        Description(d => d.Produces<Response>());
        Summary(s => s.Summary = "Client dashboard metrics");
    }

    public override async Task HandleAsync(CancellationToken ct) => await Send.OkAsync(await Data.ReadAsync(db, ct), ct);
}
