using Npgsql;

namespace NexusCore.ClientsApi.Features.Clients.Delete;

internal enum DeleteOutcome
{
    Deleted,
    NotFound,
    VersionMismatch,
}

internal static class Data
{
    private const string Sql = "DELETE FROM clients WHERE id = $1 AND ($2::int[] IS NULL OR version = ANY($2))";

    /// <summary>
    /// Deletes the client, only at one of <paramref name="expectedVersions"/> when given; when nothing
    /// matched, tells a missing client from a changed one.
    /// </summary>
    public static async Task<(DeleteOutcome Outcome, Client? Current)> DeleteAsync(
        NpgsqlConnection connection, long id, int[]? expectedVersions, CancellationToken ct)
    {
        await using (var command = new NpgsqlCommand(Sql, connection))
        {
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)expectedVersions ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Integer });
            if (await command.ExecuteNonQueryAsync(ct) > 0)
            {
                return (DeleteOutcome.Deleted, null);
            }
        }

        var current = await ClientLookup.CurrentAfterUnmatchedWriteAsync(connection, id, expectedVersions, ct);
        return current is null ? (DeleteOutcome.NotFound, null) : (DeleteOutcome.VersionMismatch, current);
    }
}
