namespace NexusCore.AppHost.Tests;

/// <summary>What `./test.sh --fast` runs of this project ([NoStack] classes) needs no stack (see <see cref="NoStackCheck"/>).</summary>
[NoStack]
public sealed class NoStackTests
{
    [Fact]
    public void NoClassMarkedNoStackReachesAStack() => Assert.Empty(NoStackCheck.Problems(typeof(NoStackTests).Assembly));
}

/// <summary>The check itself finds each way a class can reach a stack (these examples are not marked: the check reads them as it would a marked class).</summary>
public sealed class NoStackCheckTests
{
    [Fact]
    public void TheCheckNamesEachWayAClassReachesAStack()
    {
        Assert.Equal(
            [
                $"{typeof(InACollection).FullName} is in a test collection: a collection shares a fixture.",
                $"{typeof(InACollection).FullName} is given a StackFixture.",
                $"{typeof(InACollection).FullName} reaches StackFixture (a stack).",
            ],
            NoStackCheck.Problems(typeof(InACollection)));
        Assert.Equal([$"{typeof(BootsOneInAnAsyncMethod).FullName} reaches StackFixture (a stack)."], NoStackCheck.Problems(typeof(BootsOneInAnAsyncMethod)));
        Assert.Equal(
            [$"{typeof(ThroughAHelper).FullName} reaches Npgsql.NpgsqlDataSource (PostgreSQL).", $"{typeof(ThroughAHelper).FullName} reaches Process.Start (a child process)."],
            NoStackCheck.Problems(typeof(ThroughAHelper)));
        Assert.Empty(NoStackCheck.Problems(typeof(NoStackTests)));
    }

    [Collection(StackCollection.Name)]
    private sealed class InACollection(StackFixture stack)
    {
        public string Key() => stack.ApiKey("reader");
    }

    private sealed class BootsOneInAnAsyncMethod
    {
        public static async Task<string> KeyAsync()
        {
            var stack = new StackFixture();
            await stack.InitializeAsync();
            return stack.ApiKey("reader");
        }
    }

    private sealed class ThroughAHelper
    {
        public static Task<int> CountAsync() => Helper.Run(() => Helper.CountAsync("Host=nowhere"));
    }

    private static class Helper
    {
        public static async Task<int> CountAsync(string connectionString)
        {
            await using var source = Npgsql.NpgsqlDataSource.Create(connectionString);
            using var process = System.Diagnostics.Process.Start("true");
            return 1;
        }

        public static Task<int> Run(Func<Task<int>> work) => work();
    }
}
