using Microsoft.Extensions.Configuration;
using NexusCore.AppHost;
using NexusCore.AppHost.Database;
using NexusCore.AppHost.Infrastructure;

var builder = DistributedApplication.CreateBuilder(args);
builder.Configuration.AddCommandLine(args, new Dictionary<string, string>(InfrastructureModeResolver.SwitchMappings)
{
    ["--replicas"] = "NexusCore:ClientsApi:Replicas",
});

// Containers when a container runtime answers, else the machine's PostgreSQL 15 and redis-server.
var infrastructure = InfrastructureModeResolver.Resolve(builder.Configuration);
if (infrastructure.Mode is not { } mode)
{
    Console.Error.WriteLine(infrastructure.Explanation);
    return 2;
}

Console.WriteLine($"NexusCore infrastructure: {mode.ToString().ToLowerInvariant()} ({infrastructure.Explanation}).");

IResourceBuilder<IResourceWithConnectionString> clientsDb;
IResourceBuilder<IResourceWithConnectionString> cache;
DatabaseRoles roles;
if (mode == InfrastructureMode.Containers)
{
    var postgres = builder.AddPostgres("postgres")
        .WithArgs("-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.track=top",
            // As in local mode: room for every pool of three ClientsApi replicas and PerfApi (the image's default is 100).
            "-c", "max_connections=300");
    clientsDb = postgres.AddDatabase("clientsdb");
    roles = builder.AddDatabaseRoles(postgres.Resource, postgres.Resource.PrimaryEndpoint, postgres.Resource.ConnectionStringExpression, clientsDb, "clientsdb");
    cache = builder.AddRedis("cache");
}
else
{
    if (!LocalRunFolder.TryCreate(builder.Configuration[LocalRunFolder.DataRootKey], out var runFolder, out var refusal))
    {
        Console.Error.WriteLine(refusal);
        return 2;
    }

    var postgres = builder.AddLocalPostgres("postgres", infrastructure.Binaries!, runFolder);
    clientsDb = postgres.AddDatabase("clientsdb");
    roles = builder.AddDatabaseRoles(postgres.Resource, postgres.Resource.PrimaryEndpoint, postgres.Resource.ConnectionStringExpression, clientsDb, "clientsdb");
    cache = builder.AddLocalRedis("cache", infrastructure.Binaries!, runFolder);
}

var apiKeys = builder.AddApiKeys();
var cursorSigningKey = builder.AddParameter(
    "cursor-signing-key", new GenerateParameterDefault { MinLength = 48, Special = false }, secret: true, persist: true);

// The superuser only bootstraps: each service connects as its own role (README, Security).
var migrator = builder.AddProject<Projects.NexusCore_Migrator>("migrator")
    .WithDatabaseRole(roles.Migrator)
    .WaitFor(clientsDb);

var clientsApi = builder.AddProject<Projects.NexusCore_ClientsApi>("clients-api")
    .WithDatabaseRole(roles.ClientsApi)
    .WithReference(cache)
    .WaitFor(clientsDb)
    .WaitFor(cache)
    .WaitForCompletion(migrator)
    .WithApiKeys(apiKeys)
    .WithEnvironment("Cursors__SigningKey", cursorSigningKey)
    .WithSeedSettings(builder.Configuration)
    .WithReplicas(builder.Configuration.GetValue("NexusCore:ClientsApi:Replicas", 1))
    .WithHttpHealthCheck("/health")
    .WithApiReference();

// PerfApi can be left out (NexusCore:PerfApi:Enabled=false), e.g. by the tests of ClientsApi, which never call it:
// ClientsApi then exports its telemetry to the dashboard only.
if (builder.Configuration.GetValue("NexusCore:PerfApi:Enabled", true))
{
    var perfApi = builder.AddProject<Projects.NexusCore_PerfApi>("perf-api")
        .WithDatabaseRole(roles.PerfApi)
        .WithDatabaseRole(roles.Advisor, "clientsdb-advisor")
        .WithDatabaseRole(roles.Indexer, "clientsdb-indexer")
        .WithReference(cache)
        .WithReference(clientsApi)
        .WaitFor(clientsDb)
        .WaitFor(cache)
        .WaitForCompletion(migrator)
        .WithApiKeys(apiKeys, ingest: true)
        .WithSeedSettings(builder.Configuration)
        .WithHttpHealthCheck("/health")
        .WithApiReference();

    // ClientsApi's traces and metrics go to the dashboard and to PerfApi, which computes the
    // performance endpoints from them (no WaitFor: telemetry must never hold a service back).
    clientsApi.WithTelemetryTo(perfApi, apiKeys);

    // The dashboard links to PerfApi's console, has buttons for its actions, and shows its alerts on clients-api.
    builder.WithConsole(perfApi, clientsApi, apiKeys);
}

builder.Build().Run();
return 0;
