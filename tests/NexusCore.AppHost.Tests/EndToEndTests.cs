using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace NexusCore.AppHost.Tests;

[Collection(StackCollection.Name)]
public sealed class EndToEndTests(StackFixture stack)
{
    [Fact]
    public async Task AClientCreatedThroughClientsApiIsReadBackAndPerfApiSeesHealthyDependencies()
    {
        var clients = stack.CreateClient("clients-api", "writer");
        var perf = stack.CreateClient("perf-api", "reader");
        var email = $"e2e.{Guid.NewGuid():N}@example.com";

        var created = await clients.PostAsJsonAsync("/api/v1/clients", new { name = "End To End", email, programType = "PRIME" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var read = await clients.GetAsync(created.Headers.Location);
        var client = JsonDocument.Parse(await read.Content.ReadAsStringAsync()).RootElement;
        var health = JsonDocument.Parse(await perf.GetStringAsync("/api/v1/performance/health/details")).RootElement;

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal("End To End", client.GetProperty("name").GetString());
        Assert.Equal(email, client.GetProperty("email").GetString());
        Assert.Equal("PRIME", client.GetProperty("programType").GetString());
        // Both dependencies are up, so the only thing that may degrade the status is an alert raised by
        // what the collection's other tests did (a slow query under load, misses from junk requests).
        var reasons = health.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()!).ToList();
        Assert.All(reasons, reason => Assert.StartsWith("alert ", reason, StringComparison.Ordinal));
        Assert.Equal(reasons.Count == 0 ? "healthy" : "degraded", health.GetProperty("status").GetString());
        Assert.Equal("healthy", health.GetProperty("dependencies").GetProperty("postgres").GetProperty("status").GetString());
        Assert.Equal("healthy", health.GetProperty("dependencies").GetProperty("redis").GetProperty("status").GetString());
    }

    [Fact]
    public async Task LocalPostgresExposesTheSameConnectionStringShapeAsTheContainerAndPreloadsPgStatStatements()
    {
        var connectionString = new NpgsqlConnectionStringBuilder(await stack.ConnectionStringAsync("clientsdb"));

        Assert.Equal("127.0.0.1", connectionString.Host);
        Assert.Equal("postgres", connectionString.Username);
        Assert.Equal("clientsdb", connectionString.Database);
        Assert.False(string.IsNullOrEmpty(connectionString.Password));

        await using var command = stack.ClientsDb.CreateCommand(
            "SELECT current_setting('shared_preload_libraries'), current_setting('listen_addresses'), (SELECT count(*) FROM pg_stat_statements) >= 0");
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Contains("pg_stat_statements", reader.GetString(0));
        Assert.Equal("127.0.0.1", reader.GetString(1));
        Assert.True(reader.GetBoolean(2));
    }

    [Fact]
    public async Task LocalPostgresAndRedisListenOnPortsBelowTheEphemeralRange()
    {
        var postgres = new NpgsqlConnectionStringBuilder(await stack.ConnectionStringAsync("clientsdb")).Port;
        var redis = int.Parse(
            (await stack.ConnectionStringAsync("cache")).Split(',')[0].Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture);

        var below = NexusCore.AppHost.Infrastructure.LocalRunFolder.EphemeralPortRangeStart();
        Assert.InRange(postgres, NexusCore.AppHost.Infrastructure.LocalRunFolder.LowestPort, below - 1);
        Assert.InRange(redis, NexusCore.AppHost.Infrastructure.LocalRunFolder.LowestPort, below - 1);
    }

    [Fact]
    public async Task EveryServiceAnswersItsHealthAndAlivenessProbes()
    {
        foreach (var resource in new[] { "clients-api", "perf-api" })
        {
            var http = stack.CreateClient(resource);
            Assert.Equal("Healthy", await http.GetStringAsync("/health"));
            Assert.Equal("Healthy", await http.GetStringAsync("/alive"));
        }
    }

    [Fact]
    public async Task ClientsApiPublishesAnOpenApiDocumentListingItsRoutes()
    {
        var document = JsonDocument.Parse(await stack.CreateClient("clients-api").GetStringAsync("/swagger/v1/swagger.json")).RootElement;

        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/api/v1/clients", paths);
        Assert.Contains("/api/v1/clients/{id}", paths);
    }

    [Fact]
    public async Task ASecondLocalStackRunsBesideTheFirstOnItsOwnPorts()
    {
        await using var second = new PostgresOnlyStack();
        await second.InitializeAsync();

        var first = new NpgsqlConnectionStringBuilder(await stack.ConnectionStringAsync("postgres"));
        var other = new NpgsqlConnectionStringBuilder(await second.ConnectionStringAsync("postgres"));
        Assert.NotEqual(first.Port, other.Port);
        await using var connection = new NpgsqlConnection(other.ConnectionString + ";Database=postgres");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT current_setting('port')::int", connection);
        Assert.Equal(other.Port, (int)(await command.ExecuteScalarAsync())!);
    }

    private sealed class PostgresOnlyStack : StackFixture, IAsyncDisposable
    {
        protected override IReadOnlyCollection<string> KeptResources => ["postgres"];

        ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());
    }
}
