using System.ComponentModel;
using System.Runtime.InteropServices;

namespace NexusCore.AppHost.Infrastructure;

/// <summary>
/// What <c>lstat</c> says of a path: its type, owner and permission bits, without following a final symbolic link.
/// .NET has no API for a file's owner, so this is read with Linux's <c>statx</c> (glibc 2.28+): unlike
/// <c>lstat</c>, its buffer has one layout on every architecture, so it can be declared here safely.
/// </summary>
public sealed record UnixFileStatus(UnixFileKind Kind, uint OwnerId, UnixFileMode Mode)
{
    /// <summary>The permission bits, setuid/setgid and sticky included (the low 12 bits of <c>st_mode</c>).</summary>
    private const int PermissionMask = 0xFFF;

    /// <summary>The effective user id of this process.</summary>
    public static uint CurrentUserId => OperatingSystem.IsLinux() ? Native.geteuid() : throw NotLinux();

    /// <summary>The status of <paramref name="path"/> itself (a symbolic link is reported as one); null when nothing is there.</summary>
    public static UnixFileStatus? Lstat(string path) => Stat(path, followLinks: false);

    /// <summary>The status of what <paramref name="path"/> leads to, symbolic links followed; null when nothing is there.</summary>
    public static UnixFileStatus? StatFollowingLinks(string path) => Stat(path, followLinks: true);

    private static UnixFileStatus? Stat(string path, bool followLinks)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw NotLinux();
        }

        var flags = followLinks ? 0 : Native.AtSymlinkNoFollow;
        if (Native.statx(Native.AtFdCwd, path, flags, Native.StatxBasicStats, out var buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno is Native.ENOENT or Native.ENOTDIR
                ? null
                : throw new IOException($"Cannot read the status of {path}: {new Win32Exception(errno).Message}.", new Win32Exception(errno));
        }

        var kind = (buffer.Mode & Native.TypeMask) switch
        {
            Native.TypeDirectory => UnixFileKind.Directory,
            Native.TypeRegular => UnixFileKind.RegularFile,
            Native.TypeSymlink => UnixFileKind.SymbolicLink,
            _ => UnixFileKind.Other,
        };
        return new UnixFileStatus(kind, buffer.Uid, (UnixFileMode)(buffer.Mode & PermissionMask));
    }

    private static PlatformNotSupportedException NotLinux() =>
        new("Local mode's folder checks read file owners with Linux's statx; use containers mode on other systems.");

    /// <summary>
    /// Hand-written interop, because .NET exposes neither a file's owner nor the effective uid. <c>statx</c>
    /// rather than <c>lstat</c>: <c>struct stat</c> differs between architectures, <c>struct statx</c> does not.
    /// </summary>
    private static class Native
    {
        public const int AtFdCwd = -100;
        public const int AtSymlinkNoFollow = 0x100;
        public const uint StatxBasicStats = 0x7FF;
        public const int ENOENT = 2;
        public const int ENOTDIR = 20;
        public const int TypeMask = 0xF000;
        public const int TypeDirectory = 0x4000;
        public const int TypeRegular = 0x8000;
        public const int TypeSymlink = 0xA000;

        // "libc" is mapped by the runtime to the C library's real name (libc.so.6 with glibc).
        [DllImport("libc", SetLastError = true)]
        public static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string pathname, int flags, uint mask, out Statx buffer);

        [DllImport("libc")]
        public static extern uint geteuid();
    }

    /// <summary>The start of <c>struct statx</c> (linux/stat.h); the kernel fills all 256 bytes.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 256)]
    private struct Statx
    {
        public uint Mask;
        public uint BlockSize;
        public ulong Attributes;
        public uint Links;
        public uint Uid;
        public uint Gid;
        public ushort Mode;
    }
}

public enum UnixFileKind
{
    Directory,
    RegularFile,
    SymbolicLink,
    Other,
}
