using Npgsql;
using NexusCore.ClientsApi.Extensions;

namespace NexusCore.ClientsApi.Features.Clients.Create;

internal static class Data
{
    private const string Sql = $"""
        INSERT INTO clients (name, email, status, program_type)
        VALUES ($1, $2, $3, $4)
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

        try
        {
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            var created = Client.Read(reader);
            await reader.CompleteAsync(ct);
            return created;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return null;
        }
    }
}
