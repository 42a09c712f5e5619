using Npgsql;

namespace NexusCore.ClientsApi.Features.Clients.Get;

internal static class Data
{
    public static Task<Client?> FindAsync(NpgsqlDataSource db, long id, CancellationToken ct) =>
        ClientLookup.FindAsync(db, id, ct);
}
