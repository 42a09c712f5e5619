using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace NexusCore.AppHost.Infrastructure;

/// <summary>
/// The per-run folder that holds local mode's data (one per AppHost process, so two stacks can run
/// side by side), plus the few process-level helpers local mode needs.
/// </summary>
/// <remarks>
/// Run folders live under a root that belongs to the user running the AppHost: <c>NexusCore:Local:DataRoot</c>,
/// by default <c>$TMPDIR/nexuscore-&lt;uid&gt;</c>. The root and each run folder are created with their mode
/// (0700; 0711 when the AppHost is root, so that the postgres and redis users can pass through to their own
/// 0700 folders) and are checked before use: a directory, not a symbolic link, owned by this user, with exactly
/// that mode, under folders no other user can write to. Anything else is refused, never repaired.
/// </remarks>
public sealed class LocalRunFolder
{
    public const string DataRootKey = "NexusCore:Local:DataRoot";

    private const string RunPrefix = "run-";

    private LocalRunFolder(string path, string root, UnixFileMode mode)
    {
        Path = path;
        Root = root;
        Mode = mode;
    }

    /// <summary>This run's folder.</summary>
    public string Path { get; }

    /// <summary>The folder that holds every run's folder.</summary>
    public string Root { get; }

    /// <summary>The mode of the root and of the run folder.</summary>
    public UnixFileMode Mode { get; }

    /// <summary>
    /// <c>$TMPDIR/nexuscore-&lt;uid&gt;</c>: per user, so no user ever shares (or can prepare) another's root. Not
    /// <c>$XDG_RUNTIME_DIR</c>: it is a small tmpfs (10 % of memory by default), too small for a seeded database, and
    /// root's (<c>/run/user/0</c>, mode 0700) cannot be entered by the postgres and redis users.
    /// </summary>
    public static string DefaultRoot() => OperatingSystem.IsWindows()
        ? System.IO.Path.Combine(System.IO.Path.GetTempPath(), "nexuscore")
        : System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"nexuscore-{UnixFileStatus.CurrentUserId.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>
    /// Creates this run's folder under <paramref name="configuredRoot"/> (or <see cref="DefaultRoot"/>), or says
    /// in <paramref name="refusal"/> why it will not: what is wrong with which folder and how to fix it.
    /// </summary>
    public static bool TryCreate(string? configuredRoot, [NotNullWhen(true)] out LocalRunFolder? folder, [NotNullWhen(false)] out string? refusal)
    {
        try
        {
            folder = Create(string.IsNullOrWhiteSpace(configuredRoot) ? DefaultRoot() : configuredRoot, RunAs.ServersRunAsOtherUsers);
            refusal = null;
            return true;
        }
        catch (Exception ex) when (ex is UnsafeFolderException or PlatformNotSupportedException)
        {
            folder = null;
            refusal = ex.Message;
            return false;
        }
    }

    /// <summary>
    /// Creates this run's folder under <paramref name="root"/>, first checking the root (created if missing) and
    /// removing folders of runs that have ended. Throws <see cref="UnsafeFolderException"/> when a folder is not private.
    /// </summary>
    public static LocalRunFolder Create(string root, bool serversRunAsOtherUsers)
    {
        root = System.IO.Path.GetFullPath(root);
        var mode = serversRunAsOtherUsers ? PrivateFiles.OwnerOnlyOthersPassThrough : PrivateFiles.OwnerOnly;
        if (PrivateFiles.AncestorProblems(root, serversRunAsOtherUsers) is { Count: > 0 } unsafeAbove)
        {
            throw new UnsafeFolderException(
                $"Local mode refuses to keep its folder at {root}: {string.Join("; ", unsafeAbove)}. " +
                "Set NexusCore:Local:DataRoot (environment variable NexusCore__Local__DataRoot) to a folder under safe parents.");
        }

        PrivateFiles.EnsureDirectory(root, mode);
        RemoveEndedRuns(root);

        var pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var name = $"{RunPrefix}{DateTime.UtcNow:yyyyMMddHHmmss}-{pid}";
        var path = System.IO.Path.Combine(root, name);
        for (var n = 2; System.IO.Path.Exists(path); n++)
        {
            // The same process started another stack within the same second (a test fixture's second attempt).
            path = System.IO.Path.Combine(root, $"{name}-{n.ToString(CultureInfo.InvariantCulture)}");
        }

        PrivateFiles.EnsureDirectory(path, mode);
        return new LocalRunFolder(path, root, mode);
    }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>
    /// Removes the folders of runs whose process has ended. The process id is read from the folder's name,
    /// which exists from the folder's first moment: a run that is still starting is never taken for an ended one.
    /// </summary>
    private static void RemoveEndedRuns(string root)
    {
        foreach (var dir in Directory.EnumerateDirectories(root, RunPrefix + "*"))
        {
            var parts = System.IO.Path.GetFileName(dir).Split('-');
            if (parts.Length >= 3 && int.TryParse(parts[2], CultureInfo.InvariantCulture, out var owner) && IsAlive(owner))
            {
                continue;
            }

            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A folder that cannot be deleted now is left for a later run.
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

/// <summary>Runs short set-up commands (initdb, chown, id) to completion and fails with their output.</summary>
internal static class SetupProcess
{
    /// <summary>Runs the command and returns what it wrote to standard output.</summary>
    public static async Task<string> RunAsync(string fileName, IEnumerable<string> arguments, CancellationToken cancellationToken)
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

        return await stdout;
    }
}

/// <summary>
/// PostgreSQL refuses to run as root, and Redis must not (a config file it reads can load a module). When the
/// AppHost is root, local mode runs each server and its set-up as the server's own system user (<c>postgres</c>,
/// <c>redis</c>, created by Debian's packages) through <c>setpriv</c>, which execs in place so Aspire keeps the
/// server's own process.
/// </summary>
internal sealed record RunAs(string? User)
{
    /// <summary>True when the servers run as users of their own: the AppHost is root.</summary>
    public static bool ServersRunAsOtherUsers => Environment.IsPrivilegedProcess;

    public static RunAs ForPostgres() => new(ServersRunAsOtherUsers ? "postgres" : null);

    public static RunAs ForRedis() => new(ServersRunAsOtherUsers ? "redis" : null);

    public (string Command, IReadOnlyList<string> Args) Wrap(string command, IEnumerable<string> args) =>
        User is null
            ? (command, args.ToList())
            : ("setpriv", [$"--reuid={User}", $"--regid={User}", "--init-groups", "--", command, .. args]);

    /// <summary>The uid the server runs as: this process's own, or the server user's (which must exist).</summary>
    public async Task<uint> UserIdAsync(CancellationToken cancellationToken)
    {
        if (User is null)
        {
            return UnixFileStatus.CurrentUserId;
        }

        try
        {
            return uint.Parse((await SetupProcess.RunAsync("id", ["-u", User], cancellationToken)).Trim(), CultureInfo.InvariantCulture);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidOperationException(
                $"The AppHost runs as root, so local mode runs this server as the system user '{User}', which does not exist. " +
                $"Install the Debian package that creates it (postgresql-15 or redis-server), or run the AppHost as an ordinary user.", ex);
        }
    }

    /// <summary>Hands a file or folder this process created to the server's user (nothing to do when that is this user).</summary>
    public async Task GiveOwnershipAsync(string path, CancellationToken cancellationToken)
    {
        if (User is not null)
        {
            // That path alone, and never what a link leads to: not -R, since on a restart the folder already is the
            // server's, and root must not walk a tree that another user could have filled (with links, say).
            await SetupProcess.RunAsync("chown", ["-h", $"{User}:{User}", path], cancellationToken);
        }
    }
}
