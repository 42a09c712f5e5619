using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NexusCore.ServiceDefaults;
using NexusCore.Migrator;
using NexusCore.Migrator.Migrations;
using NexusCore.Migrator.Seeding;

// The migrator applies pending migrations and exits: 0 on success, 1 on failure (with the failing
// script in the log), 2 when it is not configured or the command line is wrong. `seed` migrates, then
// loads deterministic demo clients (Seeding/ClientSeeder.cs).
var command = MigratorCommand.Parse(args);
switch (command)
{
    case MigratorCommand.Help:
        Console.Out.WriteLine(MigratorCommand.Usage);
        return 0;
    case MigratorCommand.Invalid invalid:
        Console.Error.WriteLine(invalid.Error);
        Console.Error.WriteLine();
        Console.Error.WriteLine(MigratorCommand.Usage);
        return 2;
}

// The command line is parsed above; the host reads configuration from files and the environment.
var builder = Host.CreateApplicationBuilder();
builder.AddServiceDefaults();
builder.Services.AddSingleton<MigrationRunner>();
if (command is MigratorCommand.Seed seed)
{
    builder.AddSeeding(seed);
}

using var host = builder.Build();
var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("NexusCore.Migrator");

var connectionString = builder.Configuration.GetConnectionString("clientsdb");
if (string.IsNullOrWhiteSpace(connectionString))
{
    logger.LogCritical("No connection string 'clientsdb' (ConnectionStrings:clientsdb) is configured");
    return 2;
}

// Validated before the host starts (which would validate too, but log a stack trace): a bad setting is one line.
if (command is MigratorCommand.Seed)
{
    try
    {
        _ = host.Services.GetRequiredService<IOptions<SeedOptions>>().Value;
    }
    catch (OptionsValidationException ex)
    {
        logger.LogCritical("Invalid seeding configuration: {Failures}", string.Join("; ", ex.Failures));
        return 2;
    }
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

if (exitCode == 0 && command is MigratorCommand.Seed)
{
    // Ctrl+C stops the host; the load then rolls back rather than leave part of it.
    var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
    try
    {
        await host.Services.GetRequiredService<ClientSeeder>().SeedAsync(connectionString, stopping);
    }
    catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
    {
        logger.LogCritical(ex, "Seeding failed; its transaction was rolled back, so no client was added");
        exitCode = 1;
    }
    catch (OperationCanceledException) when (stopping.IsCancellationRequested)
    {
        logger.LogWarning("Seeding was cancelled; its transaction was rolled back, so no client was added");
        exitCode = 1;
    }
}

// Stopping the host flushes telemetry before the process ends.
await host.StopAsync();
return exitCode;
