using System.Diagnostics;
using System.Runtime.Versioning;
using NexusCore.AppHost.Infrastructure;

namespace NexusCore.AppHost.Tests.Infrastructure;

/// <summary>
/// Local mode keeps the servers' passwords and data in a per-user root folder. A folder another user made, a
/// folder open to others or a symbolic link put in its place must be refused before anything is written,
/// and secret files must be private from their first byte and never written through what is already there.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class LocalRunFolderTests : IDisposable
{
    private const UnixFileMode Mode0755 = PrivateFiles.OwnerOnly
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private static readonly uint Me = UnixFileStatus.CurrentUserId;

    /// <summary>A folder of this test's own in the temporary folder (sticky and root's, as roots' parents are).</summary>
    private readonly string _scratch = Path.Combine(Path.GetTempPath(), $"nexuscore-test-{Guid.NewGuid():N}");

    public LocalRunFolderTests() => Directory.CreateDirectory(_scratch, PrivateFiles.OwnerOnlyOthersPassThrough);

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    [Theory]
    [InlineData(false, PrivateFiles.OwnerOnly)]
    [InlineData(true, PrivateFiles.OwnerOnlyOthersPassThrough)]
    public void AFreshRootAndItsRunFolderAreCreatedOwnedByThisUserWithTheirModeFromTheStart(bool serversRunAsOtherUsers, UnixFileMode expected)
    {
        var root = Path.Combine(_scratch, "root");

        var folder = LocalRunFolder.Create(root, serversRunAsOtherUsers);

        Assert.Equal(new UnixFileStatus(UnixFileKind.Directory, Me, expected), UnixFileStatus.Lstat(root));
        Assert.Equal(new UnixFileStatus(UnixFileKind.Directory, Me, expected), UnixFileStatus.Lstat(folder.Path));
        Assert.Equal(root, Path.GetDirectoryName(folder.Path));
        Assert.Matches($@"^run-\d{{14}}-{Environment.ProcessId}$", Path.GetFileName(folder.Path));
    }

    [Fact]
    public void TheDefaultRootIsPerUserInTheTemporaryFolder() =>
        Assert.Equal(Path.Combine(Path.GetTempPath(), $"nexuscore-{Me}"), LocalRunFolder.DefaultRoot());

    [Fact]
    public void APreCreatedRootWithMode0755IsRefusedAndLeftAsItWas()
    {
        var root = Path.Combine(_scratch, "open");
        Directory.CreateDirectory(root, Mode0755);
        File.SetUnixFileMode(root, Mode0755); // whatever the umask

        var refused = Assert.Throws<UnsafeFolderException>(() => LocalRunFolder.Create(root, serversRunAsOtherUsers: false));

        Assert.Contains($"refuses to use {root}: it has mode 0755, not 0700", refused.Message);
        Assert.Contains($"rm -rf '{root}'", refused.Message);
        Assert.Contains("NexusCore:Local:DataRoot", refused.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(root));
        Assert.Equal(Mode0755, UnixFileStatus.Lstat(root)!.Mode);
    }

    [Fact]
    public async Task ARootOwnedByAnotherUserIsRefused()
    {
        string root;
        uint owner;
        if (Me == 0)
        {
            root = Path.Combine(_scratch, "theirs");
            Directory.CreateDirectory(root, PrivateFiles.OwnerOnly);
            await RunAsync("chown", "nobody:nogroup", root);
            owner = UnixFileStatus.Lstat(root)!.OwnerId;
            Assert.NotEqual(0u, owner);
        }
        else
        {
            // An ordinary user cannot give a folder away; root's home is a folder of another user's, mode 0700.
            root = "/root";
            owner = 0;
        }

        var refused = Assert.Throws<UnsafeFolderException>(() => LocalRunFolder.Create(root, serversRunAsOtherUsers: false));

        Assert.Contains($"refuses to use {root}: it is owned by uid {owner}, not you (uid {Me})", refused.Message);
    }

    [Fact]
    public void ASymbolicLinkInPlaceOfTheRootIsRefusedEvenWhenItLeadsToAPrivateFolderOfThisUser()
    {
        var target = Path.Combine(_scratch, "elsewhere");
        Directory.CreateDirectory(target, PrivateFiles.OwnerOnly);
        var root = Path.Combine(_scratch, "link");
        File.CreateSymbolicLink(root, target);

        var refused = Assert.Throws<UnsafeFolderException>(() => LocalRunFolder.Create(root, serversRunAsOtherUsers: false));

        Assert.Contains($"refuses to use {root}: it is a symbolic link (to {target})", refused.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(target));
    }

    [Fact]
    public void AFileInPlaceOfTheRootIsRefused()
    {
        var root = Path.Combine(_scratch, "file");
        File.WriteAllText(root, "");

        var refused = Assert.Throws<UnsafeFolderException>(() => LocalRunFolder.Create(root, serversRunAsOtherUsers: false));

        Assert.Contains($"refuses to use {root}: it is not a directory", refused.Message);
    }

    [Fact]
    public void ARootUnderAFolderOthersCanWriteToWithoutTheStickyBitIsRefused()
    {
        var parent = Path.Combine(_scratch, "shared");
        Directory.CreateDirectory(parent);
        var everyone = (UnixFileMode)0b111_111_111;
        File.SetUnixFileMode(parent, everyone);
        var root = Path.Combine(parent, "root");

        var refused = Assert.Throws<UnsafeFolderException>(() => LocalRunFolder.Create(root, serversRunAsOtherUsers: false));

        Assert.Contains($"{parent} (mode 0777) is writable by other users and has no sticky bit", refused.Message);
        Assert.False(Path.Exists(root));

        // With the sticky bit (as /tmp has), no one can move another user's folder away: accepted.
        File.SetUnixFileMode(parent, everyone | UnixFileMode.StickyBit);
        Assert.Equal(PrivateFiles.OwnerOnly, UnixFileStatus.Lstat(LocalRunFolder.Create(root, serversRunAsOtherUsers: false).Path)!.Mode);
    }

    [Fact]
    public void WhenTheServersRunAsTheirOwnUsersARootTheyCannotReachIsRefused()
    {
        var parent = Path.Combine(_scratch, "closed");
        Directory.CreateDirectory(parent, PrivateFiles.OwnerOnly);
        var root = Path.Combine(parent, "root");

        var refused = Assert.Throws<UnsafeFolderException>(() => LocalRunFolder.Create(root, serversRunAsOtherUsers: true));

        Assert.Contains($"{parent} (mode 0700) cannot be passed through by the postgres and redis users", refused.Message);
        Assert.NotNull(LocalRunFolder.Create(root, serversRunAsOtherUsers: false));
    }

    [Fact]
    public void TryCreateGivesTheRefusalAsTheMessageTheAppHostPrints()
    {
        var root = Path.Combine(_scratch, "open");
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, Mode0755);

        Assert.False(LocalRunFolder.TryCreate(root, out var folder, out var refusal));

        Assert.Null(folder);
        Assert.StartsWith($"Local mode refuses to use {root}: it has mode 0755, not 07", refusal);
    }

    [Fact]
    public async Task TheAppHostExitsWithCode2AndTheRefusalWhenTheDataRootIsOpenToOthers()
    {
        var root = Path.Combine(_scratch, "open");
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, Mode0755);
        var startInfo = new ProcessStartInfo("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "NexusCore.AppHost.dll"), "--infra", "local", "--NexusCore:Local:DataRoot", root])
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

        Assert.Equal(2, process.ExitCode);
        Assert.Contains($"Local mode refuses to use {root}: it has mode 0755", await stderr);
        Assert.DoesNotContain("   at ", await stdout + await stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(root));
    }

    [Fact]
    public async Task FoldersOfEndedRunsAreRemovedAndThoseOfLiveRunsKept()
    {
        var root = Path.Combine(_scratch, "root");
        Directory.CreateDirectory(root, PrivateFiles.OwnerOnly);
        var ended = Path.Combine(root, $"run-20200101000000-{await EndedProcessIdAsync()}");
        var live = Path.Combine(root, $"run-20200101000000-{Environment.ProcessId}");
        Directory.CreateDirectory(Path.Combine(ended, "postgres"));
        Directory.CreateDirectory(live);

        var folder = LocalRunFolder.Create(root, serversRunAsOtherUsers: false);

        Assert.False(Path.Exists(ended));
        Assert.True(Directory.Exists(live));
        Assert.NotEqual(live, folder.Path);
    }

    [Fact]
    public void TwoRunsOfOneProcessInTheSameSecondGetFoldersOfTheirOwn()
    {
        var root = Path.Combine(_scratch, "root");

        var first = LocalRunFolder.Create(root, serversRunAsOtherUsers: false);
        var second = LocalRunFolder.Create(root, serversRunAsOtherUsers: false);

        Assert.NotEqual(first.Path, second.Path);
        Assert.True(Directory.Exists(first.Path) && Directory.Exists(second.Path));
    }

    [Fact]
    public void ASecretFileIsCreatedWithMode0600OwnedByThisUser()
    {
        var path = Path.Combine(_scratch, "secret");

        PrivateFiles.WriteSecretFile(path, "requirepass \"s3cret\"\n");

        Assert.Equal(new UnixFileStatus(UnixFileKind.RegularFile, Me, PrivateFiles.SecretFileMode), UnixFileStatus.Lstat(path));
        Assert.Equal("requirepass \"s3cret\"\n", File.ReadAllText(path));
    }

    [Fact]
    public void ASecretFileIsNeverWrittenOverAFileThatIsAlreadyThere()
    {
        var path = Path.Combine(_scratch, "secret");
        File.WriteAllText(path, "planted");
        File.SetUnixFileMode(path, Mode0755);

        Assert.Throws<IOException>(() => PrivateFiles.WriteSecretFile(path, "password"));

        Assert.Equal("planted", File.ReadAllText(path));
        Assert.Equal(Mode0755, UnixFileStatus.Lstat(path)!.Mode);
    }

    [Fact]
    public void ASecretFileIsNeverWrittenThroughASymbolicLinkWhetherItsTargetExistsOrNot()
    {
        var existing = Path.Combine(_scratch, "existing-target");
        File.WriteAllText(existing, "theirs");
        var missing = Path.Combine(_scratch, "missing-target");
        var toExisting = Path.Combine(_scratch, "link-to-existing");
        var toMissing = Path.Combine(_scratch, "link-to-missing");
        File.CreateSymbolicLink(toExisting, existing);
        File.CreateSymbolicLink(toMissing, missing);

        Assert.Throws<IOException>(() => PrivateFiles.WriteSecretFile(toExisting, "password"));
        Assert.Throws<IOException>(() => PrivateFiles.WriteSecretFile(toMissing, "password"));

        Assert.Equal("theirs", File.ReadAllText(existing));
        Assert.False(Path.Exists(missing));
        Assert.Equal(UnixFileKind.SymbolicLink, UnixFileStatus.Lstat(toMissing)!.Kind);
    }

    [Fact]
    public void AServersFolderMayBelongToThisUserOrToTheServersUserButToNoOneElse()
    {
        var path = Path.Combine(_scratch, "cache");

        PrivateFiles.EnsureDirectory(path, PrivateFiles.OwnerOnly, Me, 12345);
        var refused = Assert.Throws<UnsafeFolderException>(() => PrivateFiles.EnsureDirectory(path, PrivateFiles.OwnerOnly, 12345));

        Assert.Equal(new UnixFileStatus(UnixFileKind.Directory, Me, PrivateFiles.OwnerOnly), UnixFileStatus.Lstat(path));
        Assert.Contains($"is owned by uid {Me}, not uid 12345", refused.Message);
    }

    /// <summary>The id of a process that has ended (it may be reused later, but not within this test).</summary>
    private static async Task<int> EndedProcessIdAsync()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        await process.WaitForExitAsync();
        return process.Id;
    }

    private static async Task RunAsync(string command, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(command, args) { UseShellExecute = false, RedirectStandardError = true })!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{command} {string.Join(' ', args)}: {stderr}");
    }
}
