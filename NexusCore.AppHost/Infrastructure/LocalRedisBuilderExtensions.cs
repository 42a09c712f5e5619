using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Aspire.Hosting.ApplicationModel;

namespace NexusCore.AppHost.Infrastructure;

/// <summary>Local mode's Redis: the machine's redis-server, started by Aspire in the foreground.</summary>
public static class LocalRedisBuilderExtensions
{
    /// <summary>
    /// Adds a redis-server bound to 127.0.0.1 on a free port, with a generated password and its working
    /// files in the run folder, run as the <c>redis</c> user when the AppHost is root. The password is written
    /// to a config file (mode 0600, the server's user's), not passed on the command line.
    /// </summary>
    public static IResourceBuilder<LocalRedisResource> AddLocalRedis(
        this IDistributedApplicationBuilder builder, string name, LocalBinaries binaries, LocalRunFolder runFolder)
    {
        var password = ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password", special: false);
        var workDir = runFolder.Sub(name);
        var configFile = Path.Combine(workDir, "redis.conf");
        var port = LocalRunFolder.FreeLoopbackPort();
        var runAs = RunAs.ForRedis();

        var (command, args) = runAs.Wrap(binaries.RedisServer!, [configFile]);
        var redis = new LocalRedisResource(name, command, runFolder.Path, password) { ConfigFile = configFile };

        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(redis, async (_, ct) =>
        {
            // A restart finds the folder already handed to the server's user; it must still be private.
            PrivateFiles.EnsureDirectory(workDir, PrivateFiles.OwnerOnly, UnixFileStatus.CurrentUserId, await runAs.UserIdAsync(ct));
            var lines = new[]
            {
                "bind 127.0.0.1",
                $"port {port.ToString(CultureInfo.InvariantCulture)}",
                $"requirepass \"{await password.GetValueAsync(ct)}\"",
                $"dir \"{workDir}\"",
                "save \"\"",
                "appendonly no",
                "protected-mode yes",
                "daemonize no",
            };

            // Written anew on every start, never through what may be there: the file is removed (unlink does
            // not follow a link) and created exclusively.
            File.Delete(configFile);
            PrivateFiles.WriteSecretFile(configFile, string.Join('\n', lines) + "\n");
            await runAs.GiveOwnershipAsync(configFile, ct);
            await runAs.GiveOwnershipAsync(workDir, ct);
        });

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(redis, async (_, ct) =>
            connectionString = await redis.ConnectionStringExpression.GetValueAsync(ct));

        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddRedis(
            _ => connectionString ?? throw new InvalidOperationException("The connection string is not known yet."),
            name: healthCheckKey);

        return builder.AddResource(redis)
            .WithArgs([.. args])
            .WithEndpoint(LocalRedisResource.PrimaryEndpointName, endpoint =>
            {
                endpoint.Port = port;
                endpoint.TargetPort = port;
                endpoint.UriScheme = "tcp";
                endpoint.TargetHost = "127.0.0.1";
                endpoint.IsProxied = false;
            })
            .WithHealthCheck(healthCheckKey);
    }
}
