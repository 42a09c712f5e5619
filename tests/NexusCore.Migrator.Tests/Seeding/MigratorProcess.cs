using System.Diagnostics;
using System.Reflection;

namespace NexusCore.Migrator.Tests.Seeding;

/// <summary>Runs the built migrator as a process, as the AppHost and a developer do.</summary>
internal static class MigratorProcess
{
    /// <summary>The migrator in its own build output (see the test project's <c>MigratorDll</c> metadata).</summary>
    public static readonly string Dll = typeof(MigratorProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "MigratorDll").Value!;

    public static async Task<(int ExitCode, string Output)> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var startInfo = new ProcessStartInfo("dotnet", [Dll, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            Environment = { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "" },
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
