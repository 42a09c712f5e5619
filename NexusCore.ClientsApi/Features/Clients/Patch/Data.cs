using Npgsql;
using NexusCore.ClientsApi.Extensions;

namespace NexusCore.ClientsApi.Features.Clients.Patch;

internal enum PatchOutcome
{
    Updated,
    NotFound,
    VersionMismatch,
    EmailTaken,
}

internal static class Data
{
    private const string Sql = $"""
        UPDATE clients
        SET name = coalesce($2, name),
            email = coalesce($3, email),
            status = coalesce($4, status),
            program_type = coalesce($5, program_type),
            updated_at = now(),
            version = version + 1
        WHERE id = $1 AND ($6::int[] IS NULL OR version = ANY($6))
        RETURNING {Client.Columns}
        """;

    /// <summary>
    /// Updates the client. When nothing matched, reads it on the same connection to tell a missing
    /// client from a changed one.
    /// </summary>
    public static async Task<(PatchOutcome Outcome, Client? Client)> UpdateAsync(
        NpgsqlConnection connection, long id, string? name, string? email, string? status, string? programType, int[]? expectedVersions, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(Sql, connection);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)name ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)email ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)programType ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)expectedVersions ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Integer });

        try
        {
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
            {
                var updated = Client.Read(reader);
                await reader.CompleteAsync(ct);
                return (PatchOutcome.Updated, updated);
            }
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return (PatchOutcome.EmailTaken, null);
        }

        // Nothing matched: the client is gone, or (with If-Match) it is at none of the versions named.
        var current = await Get.Data.CurrentAfterUnmatchedWriteAsync(connection, id, expectedVersions, ct);
        return current is null ? (PatchOutcome.NotFound, null) : (PatchOutcome.VersionMismatch, current);
    }
}
