using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

/// <summary>What the client tests do to the API, as each role, and read back from the database.</summary>
internal sealed class ClientsApiDriver(StackFixture stack)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public HttpClient Http { get; } = stack.CreateClient("clients-api", "writer");

    public HttpClient Reader { get; } = stack.CreateClient("clients-api", "reader");

    public HttpClient Admin { get; } = stack.CreateClient("clients-api", "admin");

    public HttpClient Anonymous { get; } = stack.CreateClient("clients-api");

    public NpgsqlDataSource Db => stack.ClientsDb;

    public static string UniqueEmail(string prefix = "client") => $"{prefix}.{Guid.NewGuid():N}@example.com";

    public static string Token() => "t" + Guid.NewGuid().ToString("N")[..12];

    public Task<HttpResponseMessage> CreateAsync(object body) => Http.PostAsJsonAsync("/api/v1/clients", body);

    public async Task<ClientDto> CreateOkAsync(string name, string email, string programType = "PRIME", string? status = null)
    {
        var response = await CreateAsync(new { name, email, programType, status });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ClientDto>(Json))!;
    }

    /// <summary>
    /// Inserts a client straight into the table, returning it as the API would: no API write, so no
    /// cache invalidation (immediate or delayed) can disturb a test of cache hits.
    /// </summary>
    public async Task<ClientDto> InsertAsync(string name, string programType = "PRIME", string status = "active")
    {
        var rows = await QueryAsync(
            "INSERT INTO clients (name, email, status, program_type) VALUES ($1, $2, $3, $4) RETURNING id, name, email, status, program_type, created_at, updated_at, version",
            r => new ClientDto(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetFieldValue<DateTime>(5), r.GetFieldValue<DateTime>(6), r.GetInt32(7)),
            name, UniqueEmail("sql"), status, programType);
        return rows[0];
    }

    public Task<HttpResponseMessage> PostRawAsync(string body, string contentType = "application/json") =>
        Http.PostAsync("/api/v1/clients", new StringContent(body, System.Text.Encoding.UTF8, contentType));

    public Task<HttpResponseMessage> BatchAsync(object body, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/optimized/clients/batch") { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return Http.SendAsync(request);
    }

    /// <summary>
    /// A batch sent as a well-behaved client sends many: a 429 (the writer's batch bucket holds 40, refilled
    /// at 20 a second) is retried after its Retry-After, as it wrote nothing. Then it must succeed.
    /// </summary>
    public async Task<BatchDto> BatchWithinRateLimitAsync(object body)
    {
        for (var attempt = 1; ; attempt++)
        {
            var response = await BatchAsync(body);
            if (response.StatusCode != System.Net.HttpStatusCode.TooManyRequests || attempt == 10)
            {
                return await ReadAsync<BatchDto>(response);
            }

            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
        }
    }

    public static async Task<T> ReadAsync<T>(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonSerializer.Deserialize<T>(text, Json)!;
    }

    /// <summary>How many rows hold this email, in any letter case.</summary>
    public async Task<long> CountByEmailAsync(string email)
    {
        await using var command = Db.CreateCommand("SELECT count(*) FROM clients WHERE lower(email) = lower($1)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = email });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task<long> CountAllAsync()
    {
        await using var command = Db.CreateCommand("SELECT count(*) FROM clients");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task ExecuteAsync(string sql, params object[] parameters)
    {
        await using var command = Db.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await command.ExecuteNonQueryAsync();
    }

    public async Task<List<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> read, params object[] parameters)
    {
        await using var command = Db.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}

internal sealed record ClientDto(
    long Id, string Name, string Email, string Status, string ProgramType, DateTime CreatedAt, DateTime UpdatedAt, int Version);

internal sealed record PageDto(List<ClientDto> Items, string? NextCursor, long? Count, string CountMode);
