using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace NexusCore.AppHost.Tests.Infrastructure;

/// <summary>The application model each mode declares, built without starting anything.</summary>
public sealed class AppModelTests
{
    [Fact]
    public async Task LocalModeDeclaresNoContainerAndRunsTheInfrastructureAsExecutables()
    {
        var resources = await ResourcesAsync("local");

        Assert.DoesNotContain(resources, r => r is ContainerResource);
        Assert.IsAssignableFrom<ExecutableResource>(resources.Single(r => r.Name == "postgres"));
        Assert.IsAssignableFrom<ExecutableResource>(resources.Single(r => r.Name == "cache"));
        Assert.IsAssignableFrom<IResourceWithConnectionString>(resources.Single(r => r.Name == "clientsdb"));
    }

    [Fact]
    public async Task ContainersModeUsesAspiresPostgresWithPgStatStatementsPreloadedAndRedis()
    {
        var resources = await ResourcesAsync("containers");

        var postgres = Assert.IsType<PostgresServerResource>(resources.Single(r => r.Name == "postgres"));
        Assert.IsType<PostgresDatabaseResource>(resources.Single(r => r.Name == "clientsdb"));
        Assert.IsType<RedisResource>(resources.Single(r => r.Name == "cache"));
        var args = await ArgsAsync(postgres);
        Assert.Contains("shared_preload_libraries=pg_stat_statements", args);
        Assert.Contains("max_connections=300", args);
    }

    [Theory]
    [InlineData("local")]
    [InlineData("containers")]
    public async Task TheApisReferenceTheDatabaseAndCacheAndWaitForTheMigratorToFinish(string mode)
    {
        var resources = await ResourcesAsync(mode);

        foreach (var api in new[] { "clients-api", "perf-api" })
        {
            var waits = resources.Single(r => r.Name == api).Annotations.OfType<WaitAnnotation>().ToList();
            Assert.Contains(waits, w => w.Resource.Name == "clientsdb" && w.WaitType == WaitType.WaitUntilHealthy);
            Assert.Contains(waits, w => w.Resource.Name == "cache" && w.WaitType == WaitType.WaitUntilHealthy);
            Assert.Contains(waits, w => w.Resource.Name == "migrator" && w.WaitType == WaitType.WaitForCompletion);
            Assert.Contains(resources.Single(r => r.Name == api).Annotations.OfType<HealthCheckAnnotation>(), _ => true);
        }
    }

    private static async Task<IReadOnlyList<IResource>> ResourcesAsync(string mode)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.NexusCore_AppHost>(["--infra", mode], timeout.Token);
        return builder.Resources.ToList();
    }

    private static async Task<IReadOnlyList<string>> ArgsAsync(IResource resource)
    {
        var args = new List<object>();
        var context = new CommandLineArgsCallbackContext(args, resource);
        foreach (var annotation in resource.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
        {
            await annotation.Callback(context);
        }

        return args.Select(a => a.ToString()!).ToList();
    }
}
