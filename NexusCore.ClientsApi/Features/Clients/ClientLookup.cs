using Npgsql;

namespace NexusCore.ClientsApi.Features.Clients;

/// <summary>
/// One client by id, the read Get answers with and the one Patch and Delete make when their conditional write
/// matched nothing. Shared here so that no slice calls another slice's <c>Data</c>.
/// </summary>
internal static class ClientLookup
{
    private const string Sql = $"SELECT {Client.Columns} FROM clients WHERE id = $1";

    public static Task<Client?> FindAsync(NpgsqlDataSource db, long id, CancellationToken ct) =>
        FindAsync(db.CreateCommand(Sql), id, ct);

    /// <summary>The same read on an open connection, inside whatever transaction it has.</summary>
    public static Task<Client?> FindAsync(NpgsqlConnection connection, long id, CancellationToken ct) =>
        FindAsync(new NpgsqlCommand(Sql, connection), id, ct);

    /// <summary>
    /// Why a write of one client (<c>WHERE id = $1 AND version = ANY(the If-Match versions)</c>) matched
    /// nothing: the client as it is now when the If-Match condition was false, null when it is gone.
    /// Without a condition only an unknown id matches nothing, so nothing is read.
    /// </summary>
    public static Task<Client?> CurrentAfterUnmatchedWriteAsync(NpgsqlConnection connection, long id, int[]? expectedVersions, CancellationToken ct) =>
        expectedVersions is null ? Task.FromResult<Client?>(null) : FindAsync(connection, id, ct);

    private static async Task<Client?> FindAsync(NpgsqlCommand command, long id, CancellationToken ct)
    {
        await using (command)
        {
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct) ? Client.Read(reader) : null;
        }
    }
}
