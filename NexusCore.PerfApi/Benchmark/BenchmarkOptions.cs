using Microsoft.Extensions.Options;

namespace NexusCore.PerfApi.Benchmark;

/// <summary>
/// Section <c>Benchmark</c>: the bounds a benchmark request must stay within, its defaults, and the p95
/// thresholds of its ratings (excellent at most 50 ms, good at most 200 ms, else poor).
/// </summary>
public sealed class BenchmarkOptions
{
    public const string Section = "Benchmark";

    public double MaxDurationSeconds { get; set; } = 10;

    public double DefaultDurationSeconds { get; set; } = 5;

    public int MaxRequestsPerOperation { get; set; } = 1000;

    public int DefaultRequestsPerOperation { get; set; } = 50;

    public int MaxConcurrency { get; set; } = 8;

    public int DefaultConcurrency { get; set; } = 2;

    /// <summary>An operation whose p95 is at most this (and had no error) is rated excellent.</summary>
    public double ExcellentP95Ms { get; set; } = 50;

    /// <summary>An operation whose p95 is at most this (and had no error) is rated good; above, poor.</summary>
    public double GoodP95Ms { get; set; } = 200;
}

internal sealed class BenchmarkOptionsValidator : IValidateOptions<BenchmarkOptions>
{
    public ValidateOptionsResult Validate(string? name, BenchmarkOptions options)
    {
        var failures = new List<string>();
        if (!(options.MaxDurationSeconds is > 0 and <= 300))
        {
            failures.Add("Benchmark:MaxDurationSeconds must be greater than 0 and at most 300.");
        }

        if (!(options.DefaultDurationSeconds > 0 && options.DefaultDurationSeconds <= options.MaxDurationSeconds))
        {
            failures.Add("Benchmark:DefaultDurationSeconds must be greater than 0 and at most Benchmark:MaxDurationSeconds.");
        }

        if (options.MaxRequestsPerOperation is < 1 or > 100_000)
        {
            failures.Add("Benchmark:MaxRequestsPerOperation must be from 1 to 100000.");
        }

        if (options.DefaultRequestsPerOperation < 1 || options.DefaultRequestsPerOperation > options.MaxRequestsPerOperation)
        {
            failures.Add("Benchmark:DefaultRequestsPerOperation must be from 1 to Benchmark:MaxRequestsPerOperation.");
        }

        if (options.MaxConcurrency is < 1 or > 64)
        {
            failures.Add("Benchmark:MaxConcurrency must be from 1 to 64.");
        }

        if (options.DefaultConcurrency < 1 || options.DefaultConcurrency > options.MaxConcurrency)
        {
            failures.Add("Benchmark:DefaultConcurrency must be from 1 to Benchmark:MaxConcurrency.");
        }

        if (!(options.ExcellentP95Ms > 0 && options.GoodP95Ms >= options.ExcellentP95Ms))
        {
            failures.Add("Benchmark:ExcellentP95Ms must be greater than 0 and at most Benchmark:GoodP95Ms.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
