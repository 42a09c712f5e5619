namespace NexusCore.Bench.Tests;

/// <summary>What `./test.sh --fast` runs of this project ([NoStack] classes) needs no stack (see <see cref="NoStackCheck"/>).</summary>
[NoStack]
public sealed class NoStackTests
{
    [Fact]
    public void NoClassMarkedNoStackReachesAStack() => Assert.Empty(NoStackCheck.Problems(typeof(NoStackTests).Assembly));
}
