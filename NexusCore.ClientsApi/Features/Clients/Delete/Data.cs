using Npgsql;

namespace NexusCore.ClientsApi.Features.Clients.Delete;

internal static class Data
{
    /// <summary>Deletes the client; false when there was none.</summary>
    public static async Task<bool> DeleteAsync(NpgsqlConnection connection, long id, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("DELETE FROM clients WHERE id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }
}
