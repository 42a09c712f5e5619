using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace NexusCore.ServiceDefaults;

/// <summary>
/// The seed's <c>SLOW_QUERY_THRESHOLD</c> (seconds, default 1.0): a statement with a run at least this long is a slow
/// query. Every service reads it here: ClientsApi exports the trace of a request with a span this long (see
/// <see cref="TracingOptions"/>), PerfApi lists such statements (<c>slow-queries</c>, the slow-query recommendation).
/// A flat key, as the seed named it.
/// </summary>
public sealed class SlowQueryOptions
{
    public const string Key = "SLOW_QUERY_THRESHOLD";

    public double ThresholdSeconds { get; set; } = 1.0;

    public TimeSpan Threshold => TimeSpan.FromSeconds(ThresholdSeconds);

    public static void Register(IServiceCollection services)
    {
        services.AddOptions<SlowQueryOptions>()
            .Configure<IConfiguration>((options, configuration) =>
            {
                if (configuration[Key] is { Length: > 0 } text)
                {
                    options.ThresholdSeconds = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
                        ? seconds
                        : double.NaN;
                }
            })
            .Validate(options => double.IsFinite(options.ThresholdSeconds) && options.ThresholdSeconds is >= 0 and <= 86_400,
                $"{Key} must be a number of seconds from 0 to 86400 (e.g. 1.0).")
            .ValidateOnStart();
    }
}
