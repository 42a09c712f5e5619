using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Aspire.Hosting.ApplicationModel;

namespace NexusCore.AppHost.Infrastructure;

/// <summary>Local mode's Redis: the machine's redis-server, started by Aspire in the foreground.</summary>
public static class LocalRedisBuilderExtensions
{
    /// <summary>
    /// Adds a redis-server bound to 127.0.0.1 on a free port, with a generated password and its working
    /// files in the run folder. The password is written to a config file, not passed on the command line.
    /// </summary>
    public static IResourceBuilder<LocalRedisResource> AddLocalRedis(
        this IDistributedApplicationBuilder builder, string name, LocalBinaries binaries, LocalRunFolder runFolder)
    {
        var password = ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password", special: false);
        var workDir = runFolder.Sub(name);
        var configFile = Path.Combine(workDir, "redis.conf");
        var port = LocalRunFolder.FreeLoopbackPort();

        var redis = new LocalRedisResource(name, binaries.RedisServer!, runFolder.Path, password);

        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(redis, async (_, ct) =>
        {
            Directory.CreateDirectory(workDir);
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
            await File.WriteAllLinesAsync(configFile, lines, ct);
            LocalRunFolder.RestrictToOwner(configFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        });

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(redis, async (_, ct) =>
            connectionString = await redis.ConnectionStringExpression.GetValueAsync(ct));

        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddRedis(
            _ => connectionString ?? throw new InvalidOperationException("The connection string is not known yet."),
            name: healthCheckKey);

        return builder.AddResource(redis)
            .WithArgs(configFile)
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
