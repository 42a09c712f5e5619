using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace NexusCore.ServiceDefaults;

/// <summary>
/// Section <c>Tracing</c>: which traces a service exports. Every span is recorded (so its duration and status are
/// known), but a trace leaves the process only when it is worth reading: slow (a span at least
/// <c>SLOW_QUERY_THRESHOLD</c>, or the request over its route's <see cref="SlowRoutes"/> threshold), failed (a span
/// with error status, a 5xx answer), or sampled (<see cref="SampleRatio"/> of new traces, or a caller's
/// <c>traceparent</c> with the sampled flag). The rest are dropped in process (see <see cref="TailSamplingProcessor"/>).
/// </summary>
public sealed class TracingOptions
{
    public const string Section = "Tracing";

    /// <summary>The share of traces started here that are exported whatever they turn out to be (0 to 1; 1 exports every trace).</summary>
    [Range(0.0, 1.0)]
    public double SampleRatio { get; init; } = 0.01;

    /// <summary>Requests whose route has a threshold of its own (instead of <c>SLOW_QUERY_THRESHOLD</c>): an export may take seconds, a read by id should not.</summary>
    [MaxLength(100)]
    public List<SlowRoute> SlowRoutes { get; init; } = [];

    /// <summary>Traces whose spans are held until their local root ends; a span of a further trace is not held (its root alone is decided).</summary>
    [Range(1, 1_000_000)]
    public int MaxOpenTraces { get; init; } = 4_096;

    /// <summary>Spans held across all open traces (about 1 KB each); beyond it, spans are dropped and counted.</summary>
    [Range(1, 10_000_000)]
    public int MaxBufferedSpans { get; init; } = 32_768;

    /// <summary>Spans held for one trace, so that one long request cannot take the whole buffer.</summary>
    [Range(1, 1_000_000)]
    public int MaxSpansPerTrace { get; init; } = 1_024;

    /// <summary>
    /// An open trace that gained no span for this long is let go (seconds): its root never ends here (a child that
    /// outlived its request, work whose root was not recorded).
    /// </summary>
    [Range(1, 86_400)]
    public int IdleTraceSeconds { get; init; } = 60;
}

/// <summary>One route's slowness threshold: <see cref="Route"/> is the request span's <c>http.route</c>, e.g. <c>api/v1/clients/{id}</c>.</summary>
public sealed class SlowRoute
{
    [Required]
    [StringLength(500, MinimumLength = 1)]
    public string Route { get; init; } = "";

    [Range(0.0, 86_400.0)]
    public double ThresholdSeconds { get; init; }
}

/// <summary>Checks what data annotations cannot: each route once, and the per-trace bound within the total.</summary>
internal sealed class TracingOptionsValidator : IValidateOptions<TracingOptions>
{
    public ValidateOptionsResult Validate(string? name, TracingOptions options)
    {
        var failures = new List<string>();
        foreach (var (route, index) in options.SlowRoutes.Select((r, i) => (r, i)))
        {
            var results = new List<ValidationResult>();
            if (!Validator.TryValidateObject(route, new ValidationContext(route), results, validateAllProperties: true))
            {
                failures.AddRange(results.Select(r => $"Tracing:SlowRoutes:{index}: {r.ErrorMessage}"));
            }
        }

        var duplicate = options.SlowRoutes.GroupBy(r => TailSamplingPolicy.NormalizeRoute(r.Route), StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            failures.Add($"Tracing:SlowRoutes names route '{duplicate.Key}' {duplicate.Count()} times.");
        }

        if (options.MaxSpansPerTrace > options.MaxBufferedSpans)
        {
            failures.Add("Tracing:MaxSpansPerTrace cannot exceed Tracing:MaxBufferedSpans.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
