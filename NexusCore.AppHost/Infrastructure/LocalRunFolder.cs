using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace NexusCore.AppHost.Infrastructure;

/// <summary>
/// The per-run folder that holds local mode's data (one per AppHost process, so two stacks can run
/// side by side), plus the few process-level helpers local mode needs.
/// </summary>
public sealed class LocalRunFolder
{
    private const string OwnerFile = "owner.pid";

    private LocalRunFolder(string path) => Path = path;

    public string Path { get; }

    /// <summary>Creates this run's folder under <paramref name="root"/>, first removing folders of runs that have ended.</summary>
    public static LocalRunFolder Create(string root)
    {
        Directory.CreateDirectory(root);
        RemoveEndedRuns(root);

        var pid = Environment.ProcessId;
        var path = System.IO.Path.Combine(root, $"run-{DateTime.UtcNow:yyyyMMddHHmmss}-{pid}");
        Directory.CreateDirectory(path);
        File.WriteAllText(System.IO.Path.Combine(path, OwnerFile), pid.ToString(CultureInfo.InvariantCulture));
        return new LocalRunFolder(path);
    }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Sets Unix permissions (e.g. owner-only for secrets); Windows keeps its inherited ACLs.</summary>
    public static void RestrictToOwner(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    private static void RemoveEndedRuns(string root)
    {
        foreach (var dir in Directory.EnumerateDirectories(root, "run-*"))
        {
            var ownerFile = System.IO.Path.Combine(dir, OwnerFile);
            if (File.Exists(ownerFile)
                && int.TryParse(File.ReadAllText(ownerFile), CultureInfo.InvariantCulture, out var owner)
                && IsAlive(owner))
            {
                continue;
            }

            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A folder we may not delete (another user's run) is left alone.
            }
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>A TCP port on 127.0.0.1 that is free now; the OS hands out a different one to each caller.</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }
}

/// <summary>Runs short set-up commands (initdb, chown) to completion and fails with their output.</summary>
internal static class SetupProcess
{
    public static async Task RunAsync(string fileName, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{fileName} {string.Join(' ', startInfo.ArgumentList)}' exited with {process.ExitCode}:{Environment.NewLine}{await stderr}{await stdout}");
        }
    }
}

/// <summary>
/// PostgreSQL refuses to run as root. When the AppHost is root, local mode runs the server and its
/// set-up as the <c>postgres</c> system user through <c>setpriv</c>, which execs in place so Aspire keeps
/// the server's own process.
/// </summary>
internal sealed record RunAs(string? User)
{
    public static RunAs ForPostgres() => new(Environment.IsPrivilegedProcess ? "postgres" : null);

    public (string Command, IReadOnlyList<string> Args) Wrap(string command, IEnumerable<string> args) =>
        User is null
            ? (command, args.ToList())
            : ("setpriv", [$"--reuid={User}", $"--regid={User}", "--init-groups", "--", command, .. args]);

    public async Task GiveOwnershipAsync(string path, CancellationToken cancellationToken)
    {
        if (User is not null)
        {
            await SetupProcess.RunAsync("chown", ["-R", $"{User}:{User}", path], cancellationToken);
        }
    }
}
