using Npgsql;
using NexusCore.ClientsApi.Extensions;

namespace NexusCore.ClientsApi.Features.Clients.Create;

internal static class Data
{
    // A taken email is detected without an error: an error would make Postgres log the conflicting
    // key (the email) in its DETAIL line. ON CONFLICT also settles a race with a concurrent writer of
    // the same email without one: it waits for that writer and then inserts nothing.
    private const string Sql = $"""
        INSERT INTO clients (name, email, status, program_type)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT ((lower(email))) DO NOTHING
        RETURNING {Client.Columns}
        """;

    /// <summary>Inserts the client, or returns null when its email is taken (in any letter case).</summary>
    public static async Task<Client?> InsertAsync(
        NpgsqlConnection connection, string name, string email, string status, string programType, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(Sql, connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = email });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = status });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = programType });

        await using var reader = await command.ExecuteReaderAsync(ct);
        var created = await reader.ReadAsync(ct) ? Client.Read(reader) : null;
        await reader.CompleteAsync(ct);
        return created;
    }
}
