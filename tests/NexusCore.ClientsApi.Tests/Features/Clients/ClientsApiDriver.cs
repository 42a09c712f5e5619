using System.Net.Http.Json;
using Npgsql;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

/// <summary>What the client tests do to the API and read back from the database.</summary>
internal sealed class ClientsApiDriver(StackFixture stack)
{
    public HttpClient Http { get; } = stack.CreateClient("clients-api");

    public static string UniqueEmail(string prefix = "client") => $"{prefix}.{Guid.NewGuid():N}@example.com";

    public Task<HttpResponseMessage> CreateAsync(object body) => Http.PostAsJsonAsync("/api/v1/clients", body);

    public Task<HttpResponseMessage> PostRawAsync(string body, string contentType = "application/json") =>
        Http.PostAsync("/api/v1/clients", new StringContent(body, System.Text.Encoding.UTF8, contentType));

    /// <summary>How many rows hold this email, in any letter case.</summary>
    public async Task<long> CountByEmailAsync(string email)
    {
        await using var command = stack.ClientsDb.CreateCommand("SELECT count(*) FROM clients WHERE lower(email) = lower($1)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = email });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task<long> CountAllAsync()
    {
        await using var command = stack.ClientsDb.CreateCommand("SELECT count(*) FROM clients");
        return (long)(await command.ExecuteScalarAsync())!;
    }
}

internal sealed record ClientDto(
    long Id, string Name, string Email, string Status, string ProgramType, DateTime CreatedAt, DateTime UpdatedAt, int Version);
