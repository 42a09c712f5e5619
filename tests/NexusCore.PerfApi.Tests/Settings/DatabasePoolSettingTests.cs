using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NexusCore.PerfApi.Extensions;

namespace NexusCore.PerfApi.Tests.Settings;

/// <summary>
/// README says PerfApi holds at most <c>DB_POOL_SIZE</c> connections (50 by default) and sizes the local
/// Postgres's <c>max_connections</c> on that: the setting reaches PerfApi's own pool, not only ClientsApi's.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class DatabasePoolSettingTests(PerfApiStack stack)
{
    [Fact]
    public async Task DbPoolSizeBoundsPerfApisPoolAndTheConnectionTimeoutBoundsTheWaitForOne()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration["ConnectionStrings:clientsdb"] = await stack.ConnectionStringAsync("clientsdb");
        builder.Configuration["ConnectionStrings:cache"] = "localhost:1,abortConnect=false";
        builder.Configuration["DB_POOL_SIZE"] = "3";
        builder.Configuration["DB_CONNECTION_TIMEOUT"] = "1";
        builder.AddApplicationServices();
        await using var services = builder.Services.BuildServiceProvider();
        var source = services.GetRequiredService<NpgsqlDataSource>();

        Assert.Equal(3, new NpgsqlConnectionStringBuilder(source.ConnectionString).MaxPoolSize);

        // Three connections open; a fourth waits for one and gives up after DB_CONNECTION_TIMEOUT.
        var held = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                held.Add(await source.OpenConnectionAsync());
            }

            var refused = await Assert.ThrowsAnyAsync<NpgsqlException>(async () => await source.OpenConnectionAsync());
            Assert.Contains("pool", refused.Message, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            foreach (var connection in held)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
