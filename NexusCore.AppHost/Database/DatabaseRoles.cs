using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace NexusCore.AppHost.Database;

/// <summary>
/// One Postgres login role: its name, the application name its sessions show in <c>pg_stat_activity</c>, its
/// generated secret password parameter and the connection string (that role on <c>clientsdb</c>) the services that
/// use it reference.
/// </summary>
public sealed record DatabaseRole(
    string Name,
    string ApplicationName,
    IResourceBuilder<ParameterResource> Password,
    IResourceBuilder<ConnectionStringResource> ConnectionString);

/// <summary>
/// The roles every service connects as (least privilege): the superuser bootstraps them and is used by nothing else.
/// Their grants live in the migrations (<c>V0007__least_privilege.sql</c>); README's Security section lists them.
/// </summary>
public sealed record DatabaseRoles(
    DatabaseRole Migrator,
    DatabaseRole ClientsApi,
    DatabaseRole PerfApi,
    DatabaseRole Advisor,
    DatabaseRole Indexer)
{
    /// <summary>The NOLOGIN role that owns table <c>clients</c>: the indexer builds and drops its indexes through it.</summary>
    public const string ClientsOwner = "nexuscore_clients_owner";

    /// <summary>The application name of the AppHost's own sessions (its health checks and the bootstrap).</summary>
    public const string AppHostApplicationName = "nexuscore-apphost";

    public IReadOnlyList<DatabaseRole> All => [Migrator, ClientsApi, PerfApi, Advisor, Indexer];
}

public static class DatabaseRolesExtensions
{
    /// <summary>
    /// Adds one login role per service on <paramref name="database"/> (<c>clientsdb</c>), each with a generated secret
    /// password parameter (<c>clientsdb-&lt;who&gt;-password</c>) and a connection string resource
    /// (<c>clientsdb-&lt;who&gt;</c>). The roles are created (or their passwords set) by the superuser when the server is
    /// ready, and the database is handed to the migrator's role when the database is ready; services wait for that
    /// (Aspire's <c>WaitFor</c> waits for a resource's ready event to complete).
    /// </summary>
    /// <param name="server">The server's endpoint, for the roles' connection strings.</param>
    /// <param name="serverAdmin">The superuser's connection string to the server (no database).</param>
    public static DatabaseRoles AddDatabaseRoles(
        this IDistributedApplicationBuilder builder,
        IResource serverResource,
        EndpointReference server,
        ReferenceExpression serverAdmin,
        IResourceBuilder<IResourceWithConnectionString> database,
        string databaseName)
    {
        DatabaseRole Role(string who, string name, string applicationName)
        {
            var password = builder.AddParameter(
                $"{database.Resource.Name}-{who}-password",
                new GenerateParameterDefault { MinLength = 32, Special = false },
                secret: true,
                persist: true);
            var connection = builder.AddConnectionString(
                $"{database.Resource.Name}-{who}",
                ReferenceExpression.Create(
                    $"Host={server.Property(EndpointProperty.Host)};Port={server.Property(EndpointProperty.Port)};Username={name};Password={password.Resource};Database={databaseName};Application Name={applicationName}"));
            return new DatabaseRole(name, applicationName, password, connection);
        }

        var roles = new DatabaseRoles(
            Role("migrator", "nexuscore_migrator", "migrator"),
            Role("clients-api", "nexuscore_clients_api", "clients-api"),
            Role("perf-api", "nexuscore_perf_api", "perf-api"),
            Role("advisor", "nexuscore_advisor", "nexuscore-index-advisor"),
            Role("indexer", "nexuscore_indexer", "nexuscore-index-advisor"));

        // Roles are cluster-wide: created as soon as the server is ready (also for a stack that keeps only the
        // server, as the migrator's tests do). The database part runs when the database is ready, after them.
        Task? rolesCreated = null;
        var gate = new SemaphoreSlim(1, 1);
        async Task EnsureRolesAsync(IServiceProvider services, CancellationToken ct)
        {
            await gate.WaitAsync(ct);
            try
            {
                rolesCreated ??= RoleBootstrap.CreateRolesAsync(
                    await serverAdmin.GetValueAsync(ct) ?? throw new InvalidOperationException("The server has no connection string."),
                    roles,
                    Logger(services, serverResource),
                    ct);
            }
            finally
            {
                gate.Release();
            }

            await rolesCreated;
        }

        builder.Eventing.Subscribe<ResourceReadyEvent>(serverResource, (@event, ct) => EnsureRolesAsync(@event.Services, ct));
        builder.Eventing.Subscribe<ResourceReadyEvent>(database.Resource, async (@event, ct) =>
        {
            await EnsureRolesAsync(@event.Services, ct);
            await RoleBootstrap.PrepareDatabaseAsync(
                await database.Resource.ConnectionStringExpression.GetValueAsync(ct)
                    ?? throw new InvalidOperationException($"'{database.Resource.Name}' has no connection string."),
                databaseName,
                roles,
                Logger(@event.Services, database.Resource),
                ct);
        });

        return roles;
    }

    /// <summary>The service reads <c>ConnectionStrings:clientsdb</c> (or <paramref name="connectionName"/>) with <paramref name="role"/>'s credentials.</summary>
    public static IResourceBuilder<T> WithDatabaseRole<T>(this IResourceBuilder<T> service, DatabaseRole role, string connectionName = "clientsdb")
        where T : IResourceWithEnvironment =>
        service.WithReference(role.ConnectionString, connectionName);

    private static ILogger Logger(IServiceProvider services, IResource resource) =>
        services.GetRequiredService<ResourceLoggerService>().GetLogger(resource);
}
