using System.Diagnostics;
using Microsoft.Extensions.Configuration;

namespace NexusCore.AppHost.Infrastructure;

/// <summary>Where Postgres and Redis come from.</summary>
public enum InfrastructureMode
{
    /// <summary>Standard Aspire containers (<c>AddPostgres</c>/<c>AddRedis</c>); needs Docker or Podman.</summary>
    Containers,

    /// <summary>PostgreSQL 15 and redis-server binaries started by Aspire as executables.</summary>
    Local,
}

/// <summary>
/// Picks the infrastructure mode: the <c>NexusCore:Infrastructure</c> key (or the <c>--infra</c>
/// switch) when it is <c>containers</c> or <c>local</c>; otherwise containers when a container runtime
/// answers, else local when the binaries are found.
/// </summary>
public static class InfrastructureModeResolver
{
    public const string ConfigKey = "NexusCore:Infrastructure";
    public const string Switch = "--infra";

    public static readonly IReadOnlyDictionary<string, string> SwitchMappings =
        new Dictionary<string, string> { [Switch] = ConfigKey };

    public static InfrastructureResolution Resolve(IConfiguration configuration)
    {
        var requested = (configuration[ConfigKey] ?? "auto").Trim().ToLowerInvariant();
        var binaries = LocalBinaries.Find(configuration);

        switch (requested)
        {
            case "containers" or "container" or "docker":
                return InfrastructureResolution.Chosen(InfrastructureMode.Containers, binaries, "requested");
            case "local":
                return binaries.Missing.Count == 0
                    ? InfrastructureResolution.Chosen(InfrastructureMode.Local, binaries, "requested")
                    : InfrastructureResolution.Failed(MissingBinariesMessage(binaries, containerRuntimeChecked: false));
            case "auto" or "":
                if (ContainerRuntimeAnswers(configuration))
                {
                    return InfrastructureResolution.Chosen(InfrastructureMode.Containers, binaries, "a container runtime answered");
                }

                return binaries.Missing.Count == 0
                    ? InfrastructureResolution.Chosen(InfrastructureMode.Local, binaries, "no container runtime answered; local binaries found")
                    : InfrastructureResolution.Failed(MissingBinariesMessage(binaries, containerRuntimeChecked: true));
            default:
                return InfrastructureResolution.Failed(
                    $"Unknown infrastructure mode '{requested}' in {ConfigKey} (or {Switch}). Use auto, containers or local.");
        }
    }

    private static string MissingBinariesMessage(LocalBinaries binaries, bool containerRuntimeChecked)
    {
        var lines = new List<string>();
        if (containerRuntimeChecked)
        {
            lines.Add("NexusCore cannot start its infrastructure: no container runtime answered (docker info), and the local binaries are missing:");
        }
        else
        {
            lines.Add("NexusCore cannot start in local mode: these binaries are missing:");
        }

        lines.AddRange(binaries.Missing.Select(m => "  - " + m));
        lines.Add("Install them, for example on Debian/Ubuntu:");
        lines.Add("  sudo apt-get install -y postgresql-15 redis-server");
        lines.Add("or start Docker, or point NexusCore:Local:PostgresBinDir / NexusCore:Local:RedisServer at existing binaries.");
        lines.Add("./run.sh installs them for you on Debian and Ubuntu.");
        return string.Join(Environment.NewLine, lines);
    }

    private static bool ContainerRuntimeAnswers(IConfiguration configuration)
    {
        var runtime = configuration["ASPIRE_CONTAINER_RUNTIME"] ?? configuration["DOTNET_ASPIRE_CONTAINER_RUNTIME"] ?? "docker";
        try
        {
            using var process = Process.Start(new ProcessStartInfo(runtime, ["info", "--format", "{{.ServerVersion}}"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return false;
            }

            // Drain the pipes so a chatty client cannot block on a full buffer.
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }

            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // The runtime's CLI is not installed at all.
            return false;
        }
    }
}

public sealed record InfrastructureResolution(InfrastructureMode? Mode, LocalBinaries? Binaries, string Explanation)
{
    public static InfrastructureResolution Chosen(InfrastructureMode mode, LocalBinaries binaries, string why) => new(mode, binaries, why);

    public static InfrastructureResolution Failed(string message) => new(null, null, message);
}
