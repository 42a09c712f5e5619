namespace NexusCore.Bench.Tests;

/// <summary>bench/run's options: the full scale by default, <c>--tiny</c>'s smoke scale, options beside it winning, bounds refused.</summary>
[NoStack]
public sealed class BenchCommandLineTests
{
    [Fact]
    public void WithoutOptionsARunIsTheFullScale()
    {
        var options = Parse();

        Assert.Equal([16, 32, 64, 128, 256, 512], options.ConcurrencySteps);
        Assert.Equal((1_000_000, 2, 3, 1000, 60, Path.Combine("bench", "results"), false), (options.Clients, options.DurationSeconds, options.Runs, options.PacedRate, options.ZipfWarmupSeconds, options.OutputDirectory, options.Tiny));
    }

    [Fact]
    public void TinyIsTheSmokeScaleAndAnOptionGivenBesideItWins()
    {
        var tiny = Parse("--tiny");
        var tinyTwoRuns = Parse("--runs", "2", "--tiny", "--out", "elsewhere");

        Assert.Equal((true, 10_000, 1, 1, 1, 1, 2), (tiny.Tiny, tiny.Clients, tiny.DurationSeconds, tiny.Runs, tiny.ZipfWarmupSeconds, tiny.WarmupSeconds, tiny.MaxWarmupSeconds));
        Assert.Equal([16, 64], tiny.ConcurrencySteps);
        Assert.Equal((true, 10_000, 2, "elsewhere"), (tinyTwoRuns.Tiny, tinyTwoRuns.Clients, tinyTwoRuns.Runs, tinyTwoRuns.OutputDirectory));
    }

    [Theory]
    [InlineData("--runs", "0")]
    [InlineData("--runs", "51")]
    [InlineData("--runs", "+5")]
    [InlineData("--clients", "50000001")]
    [InlineData("--duration", " 2")]
    [InlineData("--paced-rate", "1e3")]
    [InlineData("--zipf-warmup", "3601")]
    [InlineData("--clients", "")]
    [InlineData("--unknown", "1")]
    public void AValueOutOfBoundsOrAnUnknownOptionIsRefusedNamingIt(string option, string value)
    {
        var parsed = BenchCommandLine.Create((_, _, _) => Task.FromResult(0)).Parse([option, value]);

        Assert.Contains(parsed.Errors, e => e.Message.Contains(option, StringComparison.Ordinal) || e.Message.Contains(value, StringComparison.Ordinal));
    }

    private static BenchOptions Parse(params string[] args)
    {
        var parsed = BenchCommandLine.Create((_, _, _) => Task.FromResult(0)).Parse(args);
        Assert.Empty(parsed.Errors);
        return BenchCommandLine.From(parsed);
    }
}
