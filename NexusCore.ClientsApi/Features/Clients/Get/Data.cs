using Npgsql;

namespace NexusCore.ClientsApi.Features.Clients.Get;

internal static class Data
{
    private const string Sql = $"SELECT {Client.Columns} FROM clients WHERE id = $1";

    public static async Task<Client?> FindAsync(NpgsqlDataSource db, long id, CancellationToken ct)
    {
        await using var command = db.CreateCommand(Sql);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Client.Read(reader) : null;
    }
}
