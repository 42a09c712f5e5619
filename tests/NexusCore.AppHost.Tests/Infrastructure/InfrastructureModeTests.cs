using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using NexusCore.AppHost.Infrastructure;

namespace NexusCore.AppHost.Tests.Infrastructure;

public sealed class InfrastructureModeTests
{
    [Fact]
    public void AutoChoosesContainersWhenTheContainerRuntimeAnswers()
    {
        var resolution = InfrastructureModeResolver.Resolve(Config(("ASPIRE_CONTAINER_RUNTIME", "/bin/true")));

        Assert.Equal(InfrastructureMode.Containers, resolution.Mode);
    }

    [Fact]
    public void AutoChoosesLocalWhenNoContainerRuntimeAnswersAndTheBinariesExist()
    {
        var resolution = InfrastructureModeResolver.Resolve(Config(("ASPIRE_CONTAINER_RUNTIME", "/bin/false")));

        Assert.Equal(InfrastructureMode.Local, resolution.Mode);
        Assert.True(File.Exists(resolution.Binaries!.Postgres));
        Assert.True(File.Exists(resolution.Binaries.RedisServer));
    }

    [Fact]
    public void AutoFailsNamingWhatToInstallWhenNeitherIsAvailable()
    {
        var resolution = InfrastructureModeResolver.Resolve(Config(
            ("ASPIRE_CONTAINER_RUNTIME", "/nonexistent/docker"),
            ("NexusCore:Local:PostgresBinDir", "/nonexistent"),
            ("NexusCore:Local:RedisServer", "/nonexistent/redis-server")));

        Assert.Null(resolution.Mode);
        Assert.Contains("postgresql-15", resolution.Explanation);
        Assert.Contains("redis-server", resolution.Explanation);
    }

    [Theory]
    [InlineData("local", InfrastructureMode.Local)]
    [InlineData("containers", InfrastructureMode.Containers)]
    public void AnExplicitModeWinsOverDetection(string requested, InfrastructureMode expected)
    {
        var resolution = InfrastructureModeResolver.Resolve(Config(
            ("NexusCore:Infrastructure", requested),
            ("ASPIRE_CONTAINER_RUNTIME", expected == InfrastructureMode.Local ? "/bin/true" : "/bin/false")));

        Assert.Equal(expected, resolution.Mode);
    }

    [Fact]
    public void AnUnknownModeIsRefusedWithTheAllowedValues()
    {
        var resolution = InfrastructureModeResolver.Resolve(Config(("NexusCore:Infrastructure", "kubernetes")));

        Assert.Null(resolution.Mode);
        Assert.Contains("auto, containers or local", resolution.Explanation);
    }

    [Fact]
    public async Task TheAppHostExitsAtOnceWithAMessageAndNoStackTraceWhenNothingCanRunTheInfrastructure()
    {
        var startInfo = new ProcessStartInfo("dotnet",
        [
            Path.Combine(AppContext.BaseDirectory, "NexusCore.AppHost.dll"),
            "--infra", "local",
            "--NexusCore:Local:PostgresBinDir", "/nonexistent",
        ])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("postgresql-15", output);
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("Exception", output);
    }

    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
}
