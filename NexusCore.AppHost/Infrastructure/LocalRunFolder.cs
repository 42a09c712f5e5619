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

    /// <summary>The lowest port <see cref="FreeLoopbackPort()"/> picks from.</summary>
    public const int LowestPort = 10000;

    /// <summary>
    /// A TCP port on 127.0.0.1 that is free now, for a server (Postgres, Redis) that binds it a few
    /// seconds later. It is picked at random below the kernel's ephemeral range, because the ports the
    /// orchestrator gives the services, and the local ends of outgoing connections, come from that
    /// range: a port from it, free when chosen, could be handed to one of them before the server binds it.
    /// </summary>
    public static int FreeLoopbackPort() => FreeLoopbackPort(EphemeralPortRangeStart());

    /// <summary>
    /// A free port in [<see cref="LowestPort"/>, <paramref name="below"/>); when that range is too small or
    /// 64 picks are all taken, the port the OS chooses.
    /// </summary>
    public static int FreeLoopbackPort(int below)
    {
        if (below - LowestPort >= 1000)
        {
            for (var attempt = 0; attempt < 64; attempt++)
            {
                var port = Random.Shared.Next(LowestPort, below);
                if (TryBind(port, out _))
                {
                    return port;
                }
            }
        }

        return TryBind(0, out var chosen) ? chosen : throw new InvalidOperationException("No TCP port on 127.0.0.1 is free.");
    }

    /// <summary>
    /// The first port of the kernel's ephemeral range (Linux: <c>/proc/sys/net/ipv4/ip_local_port_range</c>);
    /// elsewhere, or when it cannot be read, 32768, Linux's default and below the IANA range other systems use.
    /// </summary>
    public static int EphemeralPortRangeStart()
    {
        const int fallback = 32768;
        try
        {
            var fields = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range")
                .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return fields.Length > 0 && int.TryParse(fields[0], CultureInfo.InvariantCulture, out var start) ? start : fallback;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return fallback;
        }
    }

    private static bool TryBind(int port, out int bound)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // Bound and listening, as the server will be: a port some other server listens on is refused.
            listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
            listener.Listen(1);
            bound = ((IPEndPoint)listener.LocalEndPoint!).Port;
            return true;
        }
        catch (SocketException)
        {
            bound = 0;
            return false;
        }
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
