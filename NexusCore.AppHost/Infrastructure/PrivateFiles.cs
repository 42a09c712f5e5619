using System.Text;

namespace NexusCore.AppHost.Infrastructure;

/// <summary>
/// Folders and files that hold local mode's secrets (the servers' passwords, their data), made private from
/// the moment they exist: a folder is created with its mode (never opened up, then closed) and checked with
/// <c>lstat</c> before use; a secret file is created exclusively, with mode 0600, or not at all.
/// </summary>
public static class PrivateFiles
{
    /// <summary>rwx------: the default for a private folder.</summary>
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// rwx--x--x: a folder others may pass through but never list or write. Used when Postgres and Redis run
    /// as their own users (the AppHost is root): they must reach their own 0700 folders inside it.
    /// </summary>
    public const UnixFileMode OwnerOnlyOthersPassThrough = OwnerOnly | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>rw-------: a secret file.</summary>
    public const UnixFileMode SecretFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Creates <paramref name="path"/> as a folder with <paramref name="mode"/> (mkdir's own mode argument; the
    /// umask can only take bits away) unless something is already there, then checks what is there: it must
    /// be a folder, not a symbolic link, owned by one of <paramref name="owners"/> (this user when none are
    /// given), with exactly <paramref name="mode"/>. Refuses with <see cref="UnsafeFolderException"/> otherwise.
    /// </summary>
    public static void EnsureDirectory(string path, UnixFileMode mode, params uint[] owners)
    {
        if (OperatingSystem.IsWindows())
        {
            // The per-user temporary folder and its inherited ACLs keep it private there.
            Directory.CreateDirectory(path);
            return;
        }

        try
        {
            if (UnixFileStatus.Lstat(path) is null)
            {
                Directory.CreateDirectory(path, mode);

                // A umask such as 077 takes away the pass-through bits of 0711. Giving back bits of the mode asked
                // for, on the folder just made here and still private, opens nothing that was meant to be closed.
                if (UnixFileStatus.Lstat(path) is { Kind: UnixFileKind.Directory } made
                    && made.OwnerId == UnixFileStatus.CurrentUserId && made.Mode != mode && (made.Mode & ~mode) == 0)
                {
                    File.SetUnixFileMode(path, mode);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UnsafeFolderException($"Local mode cannot create its folder {path}: {ex.Message}", ex);
        }

        if (Problems(path, mode, owners.Length == 0 ? [UnixFileStatus.CurrentUserId] : owners) is { Count: > 0 } problems)
        {
            throw new UnsafeFolderException(
                $"Local mode refuses to use {path}: it {string.Join("; it ", problems)}. It holds the servers' passwords and data, " +
                $"so it must be a directory (not a symbolic link) owned by {Owners(owners)} with mode {Octal(mode)}, " +
                "created by local mode itself. Remove it so that it is created anew " +
                $"(rm -rf '{path}'), or set NexusCore:Local:DataRoot (environment variable NexusCore__Local__DataRoot) to a folder of your own.");
        }
    }

    /// <summary>
    /// What is wrong with the folders above <paramref name="path"/>: each must be owned by root or this user and
    /// be writable by no one else unless it has the sticky bit (as /tmp has), or another user could move the
    /// private folder away and put their own in its place. With <paramref name="othersMustPassThrough"/>, each
    /// must also let others pass through, as Postgres and Redis (run as their own users) must reach their folders.
    /// </summary>
    public static IReadOnlyList<string> AncestorProblems(string path, bool othersMustPassThrough)
    {
        var problems = new List<string>();
        if (OperatingSystem.IsWindows())
        {
            return problems;
        }

        var me = UnixFileStatus.CurrentUserId;
        for (var dir = Path.GetDirectoryName(Path.GetFullPath(path)); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            // The folder a name leads to is the one that matters: /var/run may be a link to /run.
            if (UnixFileStatus.StatFollowingLinks(dir) is not { } status)
            {
                continue;
            }

            if (status.OwnerId != 0 && status.OwnerId != me)
            {
                problems.Add($"{dir} is owned by uid {status.OwnerId}, who could replace what it holds");
            }

            var writableByOthers = (status.Mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0;
            if (writableByOthers && (status.Mode & UnixFileMode.StickyBit) == 0)
            {
                problems.Add($"{dir} (mode {Octal(status.Mode)}) is writable by other users and has no sticky bit, so they could replace what it holds");
            }

            if (othersMustPassThrough && (status.Mode & UnixFileMode.OtherExecute) == 0)
            {
                problems.Add($"{dir} (mode {Octal(status.Mode)}) cannot be passed through by the postgres and redis users, which run the servers when the AppHost is root");
            }
        }

        return problems;
    }

    /// <summary>
    /// Writes a new file readable and writable by this user only from its first byte: created with
    /// O_CREAT|O_EXCL and mode 0600, so it fails when anything is already at <paramref name="path"/>, a symbolic
    /// link included (O_EXCL never follows one), instead of writing through it.
    /// </summary>
    public static void WriteSecretFile(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = SecretFileMode;
        }

        using var stream = new FileStream(path, options);
        stream.Write(Encoding.UTF8.GetBytes(content));
    }

    private static List<string> Problems(string path, UnixFileMode mode, IReadOnlyCollection<uint> owners)
    {
        var problems = new List<string>();
        switch (UnixFileStatus.Lstat(path))
        {
            case null:
                problems.Add("does not exist");
                break;
            case { Kind: UnixFileKind.SymbolicLink }:
                problems.Add($"is a symbolic link (to {new FileInfo(path).LinkTarget})");
                break;
            case { Kind: not UnixFileKind.Directory }:
                problems.Add("is not a directory");
                break;
            case var status:
                if (!owners.Contains(status.OwnerId))
                {
                    problems.Add($"is owned by uid {status.OwnerId}, not {Owners(owners)}");
                }

                if (status.Mode != mode)
                {
                    problems.Add($"has mode {Octal(status.Mode)}, not {Octal(mode)}");
                }

                break;
        }

        return problems;
    }

    private static string Owners(IReadOnlyCollection<uint> owners)
    {
        var me = UnixFileStatus.CurrentUserId;
        var names = (owners.Count == 0 ? [me] : owners).Select(uid => uid == me ? $"you (uid {uid})" : $"uid {uid}");
        return string.Join(" or ", names);
    }

    public static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode, 8).PadLeft(3, '0');
}

/// <summary>A local-mode folder that is not private (wrong owner or mode, a symbolic link, an unsafe parent); the message says how to fix it.</summary>
public sealed class UnsafeFolderException : Exception
{
    public UnsafeFolderException(string message)
        : base(message)
    {
    }

    public UnsafeFolderException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
