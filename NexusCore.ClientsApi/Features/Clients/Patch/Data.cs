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
    // A new email already used by another client matches no row instead of failing on the unique
    // index: that error would make Postgres log the email in its DETAIL line. The check and the write
    // are one statement (one round trip). A writer that takes the same email between this statement's
    // snapshot and its index insertion still makes it fail with a unique violation (see UpdateAsync).
    private const string Sql = $"""
        UPDATE clients
        SET name = coalesce($2, name),
            email = coalesce($3, email),
            status = coalesce($4, status),
            program_type = coalesce($5, program_type),
            updated_at = now(),
            version = version + 1
        WHERE id = $1 AND ($6::int[] IS NULL OR version = ANY($6))
          AND ($3::text IS NULL OR NOT EXISTS (SELECT FROM clients AS other WHERE lower(other.email) = lower($3) AND other.id <> $1))
        RETURNING {Client.Columns}
        """;

    /// <summary>
    /// Updates the client. When nothing matched, reads it on the same connection to tell a missing
    /// client from a changed one or a taken email.
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
            // The race above: another writer took the email after this statement checked it. The
            // statement failed, so nothing was written; the answer is the same 409 as when the check
            // sees it. Nothing here logs the exception (Npgsql redacts its Detail anyway).
            return (PatchOutcome.EmailTaken, null);
        }

        // Nothing matched: the client is gone, or (with If-Match) it is at none of the versions named,
        // or (with an email) another client has that email. Versions are judged first, as before the
        // email was checked in the statement.
        var current = email is null
            ? await ClientLookup.CurrentAfterUnmatchedWriteAsync(connection, id, expectedVersions, ct)
            : await ClientLookup.FindAsync(connection, id, ct);
        if (current is null)
        {
            return (PatchOutcome.NotFound, null);
        }

        if (email is null || (expectedVersions is not null && !expectedVersions.Contains(current.Version)))
        {
            return (PatchOutcome.VersionMismatch, current);
        }

        // The email is taken now, or was when the UPDATE ran and has been freed since: either way the
        // write did not happen because of it.
        return (PatchOutcome.EmailTaken, null);
    }
}
