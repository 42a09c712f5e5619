using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace NexusCore.AppHost.Infrastructure;

/// <summary>Local mode's PostgreSQL: a server from the machine's binaries, started by Aspire in the foreground.</summary>
public static class LocalPostgresBuilderExtensions
{
    /// <summary>The AppHost's own superuser sessions (health checks, database creation) name themselves, so that a test can tell them from the services'.</summary>
    private const string AppHostSessions = "Application Name=" + NexusCore.AppHost.Database.DatabaseRoles.AppHostApplicationName;

    /// <summary>
    /// Adds a PostgreSQL server run from <paramref name="binaries"/>: data in the run folder, bound to
    /// 127.0.0.1 on a free port, <c>pg_stat_statements</c> preloaded, run as <c>postgres</c> when the
    /// AppHost is root. Extra server settings come from <c>NexusCore:Local:PostgresSettings:&lt;name&gt;</c>.
    /// </summary>
    public static IResourceBuilder<LocalPostgresServerResource> AddLocalPostgres(
        this IDistributedApplicationBuilder builder, string name, LocalBinaries binaries, LocalRunFolder runFolder)
    {
        var password = ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password", special: false);
        var dataDir = runFolder.Sub(name);
        var port = LocalRunFolder.FreeLoopbackPort();
        var runAs = RunAs.ForPostgres();

        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["listen_addresses"] = "127.0.0.1",
            ["port"] = port.ToString(CultureInfo.InvariantCulture),
            ["unix_socket_directories"] = dataDir,
            ["shared_preload_libraries"] = "pg_stat_statements",
            ["pg_stat_statements.track"] = "top",
            ["track_io_timing"] = "on",
            // Each ClientsApi instance may open up to 80 (DB_POOL_SIZE 50 for searches, DB_LOOKUP_POOL_SIZE
            // 20, DB_WRITE_POOL_SIZE 10) and PerfApi up to 50: three replicas and PerfApi fit.
            ["max_connections"] = "300",
            ["shared_buffers"] = "512MB",
            ["work_mem"] = "16MB",
            ["maintenance_work_mem"] = "256MB",
            ["effective_cache_size"] = "4GB",
            ["random_page_cost"] = "1.1",
            // A backend whose client died (a killed API) notices within a second and rolls back,
            // releasing its locks, instead of waiting until it next writes to the socket.
            ["client_connection_check_interval"] = "1s",
        };
        foreach (var setting in builder.Configuration.GetSection("NexusCore:Local:PostgresSettings").GetChildren())
        {
            settings[setting.Key] = setting.Value ?? "";
        }

        List<string> serverArgs = ["-D", dataDir];
        foreach (var (key, value) in settings)
        {
            serverArgs.Add("-c");
            serverArgs.Add($"{key}={value}");
        }

        var (command, args) = runAs.Wrap(binaries.Postgres, serverArgs);
        var server = new LocalPostgresServerResource(name, command, runFolder.Path, password);

        string? adminConnectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(server, async (_, ct) =>
        {
            // The server-level string names no database; Npgsql would default to one named after the user.
            adminConnectionString = await server.ConnectionStringExpression.GetValueAsync(ct) + ";Database=postgres;" + AppHostSessions;
        });

        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(server, async (@event, ct) =>
        {
            var logger = @event.Services.GetRequiredService<ResourceLoggerService>().GetLogger(server);
            await InitializeDataDirectoryAsync(binaries, runAs, dataDir, await password.GetValueAsync(ct) ?? "", logger, ct);
        });

        builder.Eventing.Subscribe<ResourceReadyEvent>(server, async (@event, ct) =>
        {
            await using var connection = new NpgsqlConnection(adminConnectionString
                ?? throw new InvalidOperationException($"'{name}' became ready before its connection string was known."));
            await connection.OpenAsync(ct);

            // Aspire moves a container's child resources along with it, but not an executable's:
            // each database is marked running here, once it exists, so its health check starts.
            var notifications = @event.Services.GetRequiredService<ResourceNotificationService>();
            foreach (var database in builder.Resources.OfType<LocalPostgresDatabaseResource>().Where(d => d.Parent == server))
            {
                await CreateDatabaseIfMissingAsync(connection, database.DatabaseName, ct);
                await notifications.PublishUpdateAsync(database, state => state with
                {
                    State = KnownResourceStates.Running,
                    StartTimeStamp = DateTime.UtcNow,
                });
            }
        });

        builder.Eventing.Subscribe<ResourceStoppedEvent>(server, async (@event, _) =>
        {
            var notifications = @event.Services.GetRequiredService<ResourceNotificationService>();
            foreach (var database in builder.Resources.OfType<LocalPostgresDatabaseResource>().Where(d => d.Parent == server))
            {
                await notifications.PublishUpdateAsync(database, state => state with
                {
                    State = KnownResourceStates.Exited,
                    StopTimeStamp = DateTime.UtcNow,
                });
            }
        });

        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddNpgSql(
            _ => adminConnectionString ?? throw new InvalidOperationException("The connection string is not known yet."),
            name: healthCheckKey);

        return builder.AddResource(server)
            .WithArgs([.. args])
            .WithEndpoint(LocalPostgresServerResource.PrimaryEndpointName, endpoint =>
            {
                endpoint.Port = port;
                endpoint.TargetPort = port;
                endpoint.UriScheme = "tcp";
                endpoint.TargetHost = "127.0.0.1";
                // Services talk to the server directly: no proxy hop on every query.
                endpoint.IsProxied = false;
            })
            .WithHealthCheck(healthCheckKey);
    }

    /// <summary>Adds a database that is created on the server once the server is ready.</summary>
    public static IResourceBuilder<LocalPostgresDatabaseResource> AddDatabase(
        this IResourceBuilder<LocalPostgresServerResource> builder, string name, string? databaseName = null)
    {
        databaseName ??= name;
        var database = new LocalPostgresDatabaseResource(name, databaseName, builder.Resource);

        string? connectionString = null;
        builder.ApplicationBuilder.Eventing.Subscribe<ConnectionStringAvailableEvent>(database, async (_, ct) =>
            connectionString = await database.ConnectionStringExpression.GetValueAsync(ct) + ";" + AppHostSessions);

        var healthCheckKey = $"{name}_check";
        builder.ApplicationBuilder.Services.AddHealthChecks().AddNpgSql(
            _ => connectionString ?? throw new InvalidOperationException("The connection string is not known yet."),
            name: healthCheckKey);

        return builder.ApplicationBuilder.AddResource(database).WithHealthCheck(healthCheckKey);
    }

    private static async Task InitializeDataDirectoryAsync(
        LocalBinaries binaries, RunAs runAs, string dataDir, string password, ILogger logger, CancellationToken ct)
    {
        if (File.Exists(Path.Combine(dataDir, "PG_VERSION")))
        {
            logger.LogInformation("Reusing the data directory {DataDir}", dataDir);
            return;
        }

        logger.LogInformation("Creating a new cluster in {DataDir}", dataDir);
        // A start after a failed initdb finds the folder already handed to the server's user.
        PrivateFiles.EnsureDirectory(dataDir, PrivateFiles.OwnerOnly, UnixFileStatus.CurrentUserId, await runAs.UserIdAsync(ct));

        // The password reaches initdb through a file readable only by the server's user, never argv: created
        // exclusively with mode 0600 (a leftover of a failed start is removed first; unlink follows no link).
        var passwordFile = Path.Combine(Path.GetDirectoryName(dataDir)!, $".{Path.GetFileName(dataDir)}.pw");
        File.Delete(passwordFile);
        PrivateFiles.WriteSecretFile(passwordFile, password);
        try
        {
            await runAs.GiveOwnershipAsync(dataDir, ct);
            await runAs.GiveOwnershipAsync(passwordFile, ct);

            var (command, args) = runAs.Wrap(binaries.InitDb,
            [
                "-D", dataDir,
                "-U", LocalPostgresServerResource.UserName,
                "--auth=scram-sha-256",
                $"--pwfile={passwordFile}",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ]);
            await SetupProcess.RunAsync(command, args, ct);
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    private static async Task CreateDatabaseIfMissingAsync(NpgsqlConnection connection, string database, CancellationToken ct)
    {
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection)
        {
            Parameters = { new NpgsqlParameter<string> { TypedValue = database } },
        };
        if (await exists.ExecuteScalarAsync(ct) is not null)
        {
            return;
        }

        // CREATE DATABASE takes no parameters; the name is quoted as an identifier.
        var quoted = "\"" + database.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        await using var create = new NpgsqlCommand($"CREATE DATABASE {quoted}", connection);
        await create.ExecuteNonQueryAsync(ct);
    }
}
