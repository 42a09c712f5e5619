using Npgsql;

namespace NexusCore.ClientsApi.Features.Clients;

/// <summary>A client as every endpoint returns it.</summary>
public sealed record Client(
    long Id,
    string Name,
    string Email,
    string Status,
    string ProgramType,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    int Version)
{
    /// <summary>The columns <see cref="Read"/> expects, in order.</summary>
    public const string Columns = "id, name, email, status, program_type, created_at, updated_at, version";

    /// <summary>Only the id: a client logged by accident (a library printing a result) must not leak its name or email.</summary>
    public override string ToString() => $"Client {Id}";

    public static Client Read(NpgsqlDataReader reader) => new(
        reader.GetInt64(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetString(3),
        reader.GetString(4),
        reader.GetFieldValue<DateTime>(5),
        reader.GetFieldValue<DateTime>(6),
        reader.GetInt32(7));
}
