using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using NexusCore.AppHost.Infrastructure;

namespace NexusCore.AppHost.Tests.Infrastructure;

/// <summary>
/// On the running stack: Redis never runs as root (a config file it reads can load a module), its config file
/// holding the password is its own user's alone, and the folders above are the AppHost user's with their modes.
/// </summary>
[Collection(StackCollection.Name)]
[SupportedOSPlatform("linux")]
public sealed class LocalServerUserTests(StackFixture stack)
{
    private static readonly uint Me = UnixFileStatus.CurrentUserId;

    [Fact]
    public async Task RedisRunsAsItsOwnUserNeverRootAndItsConfigFileIsThatUsersAloneWithMode0600()
    {
        var redis = stack.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<LocalRedisResource>().Single();
        var expectedUid = Me == 0 ? await UserIdAsync("redis") : Me;
        var pid = stack.ProcessId("cache");

        Assert.Equal("redis-server", File.ReadAllText($"/proc/{pid}/comm").Trim());
        var uids = UidLine(pid);
        Assert.Equal([expectedUid, expectedUid, expectedUid, expectedUid], uids); // real, effective, saved, filesystem
        Assert.NotEqual(0u, expectedUid);

        var configFile = redis.ConfigFile!;
        Assert.Equal(new UnixFileStatus(UnixFileKind.RegularFile, expectedUid, PrivateFiles.SecretFileMode), UnixFileStatus.Lstat(configFile));
        Assert.Equal(new UnixFileStatus(UnixFileKind.Directory, expectedUid, PrivateFiles.OwnerOnly), UnixFileStatus.Lstat(Path.GetDirectoryName(configFile)!));
    }

    [Fact]
    public void TheRunFolderAndItsRootAreTheAppHostUsersWithTheirModeAndTheInitdbPasswordFileIsGone()
    {
        var runFolder = stack.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<LocalRedisResource>().Single().WorkingDirectory;
        var mode = Me == 0 ? PrivateFiles.OwnerOnlyOthersPassThrough : PrivateFiles.OwnerOnly;

        Assert.Equal(LocalRunFolder.DefaultRoot(), Path.GetDirectoryName(runFolder));
        Assert.Equal(new UnixFileStatus(UnixFileKind.Directory, Me, mode), UnixFileStatus.Lstat(runFolder));
        Assert.Equal(new UnixFileStatus(UnixFileKind.Directory, Me, mode), UnixFileStatus.Lstat(LocalRunFolder.DefaultRoot()));
        Assert.Equal(PrivateFiles.OwnerOnly, UnixFileStatus.Lstat(Path.Combine(runFolder, "postgres"))!.Mode);
        Assert.Empty(Directory.EnumerateFiles(runFolder, "*.pw"));
        Assert.NotEqual(0u, UidLine(stack.ProcessId("postgres"))[1]);
    }

    /// <summary>The four uids of /proc/&lt;pid&gt;/status' <c>Uid:</c> line.</summary>
    private static uint[] UidLine(int pid) =>
        File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("Uid:", StringComparison.Ordinal))
            .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(uid => uint.Parse(uid, CultureInfo.InvariantCulture)).ToArray();

    private static async Task<uint> UserIdAsync(string user)
    {
        using var process = Process.Start(new ProcessStartInfo("id", ["-u", user]) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
        return uint.Parse(output.Trim(), CultureInfo.InvariantCulture);
    }
}
