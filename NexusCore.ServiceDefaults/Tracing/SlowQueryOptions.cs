using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NexusCore.ServiceDefaults;

namespace NexusCore.ServiceDefaults;

/// <summary>
/// Section <c>SlowQuery</c>, the seed's <c>SLOW_QUERY_THRESHOLD</c> (seconds, default 1.0): a statement with a run at
/// least this long is a slow query. Every service reads it here: ClientsApi exports the trace of a request with a span
/// this long (see <see cref="TracingOptions"/>), PerfApi lists such statements (<c>slow-queries</c>, the slow-query
/// recommendation).
/// </summary>
public sealed class SlowQueryOptions
{
    public const string Section = "SlowQuery";

    /// <summary>The seed's name of <see cref="ThresholdSeconds"/>.</summary>
    public static readonly string Key = SeedSettings.NameOf($"{Section}:{nameof(ThresholdSeconds)}");

    public double ThresholdSeconds { get; set; } = 1.0;

    public TimeSpan Threshold => TimeSpan.FromSeconds(ThresholdSeconds);

    public static void Register(IServiceCollection services)
    {
        services.AddOptions<SlowQueryOptions>()
            .Configure<IConfiguration>((options, configuration) =>
            {
                try
                {
                    configuration.GetSection(Section).Bind(options);
                }
                catch (InvalidOperationException)
                {
                    // Not a number: refused below, naming the setting, like a number out of range.
                    options.ThresholdSeconds = double.NaN;
                }
            })
            .Validate(options => double.IsFinite(options.ThresholdSeconds) && options.ThresholdSeconds is >= 0 and <= 86_400,
                $"{SeedSettings.Describe($"{Section}:{nameof(ThresholdSeconds)}")} must be a number of seconds from 0 to 86400 (e.g. 1.0).")
            .ValidateOnStart();
    }
}
