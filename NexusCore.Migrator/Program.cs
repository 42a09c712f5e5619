using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NexusCore.Migrator.Migrations;

// The migrator applies pending migrations and exits: 0 on success, 1 on failure (with the failing
// script in the log), 2 when it is not configured.
var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults();
builder.Services.AddSingleton<MigrationRunner>();

using var host = builder.Build();
var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("NexusCore.Migrator");

var connectionString = builder.Configuration.GetConnectionString("clientsdb");
if (string.IsNullOrWhiteSpace(connectionString))
{
    logger.LogCritical("No connection string 'clientsdb' (ConnectionStrings:clientsdb) is configured");
    return 2;
}

await host.StartAsync();
int exitCode;
try
{
    var outcome = await host.Services.GetRequiredService<MigrationRunner>().RunAsync(connectionString, CancellationToken.None);
    exitCode = outcome.Succeeded ? 0 : 1;
}
catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
{
    logger.LogCritical(ex, "Could not reach the database to migrate it");
    exitCode = 1;
}

// Stopping the host flushes telemetry before the process ends.
await host.StopAsync();
return exitCode;
