using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace NexusCore.Web;

/// <summary>A token bucket: <c>PermitsPerSecond</c> refill, up to <c>Burst</c> at once.</summary>
public sealed class TokenBucket
{
    public int PermitsPerSecond { get; set; }
    public int Burst { get; set; }
}

/// <summary>
/// Section <c>RateLimiting</c>. Every request spends a token from its API key's bucket (one per key id, so
/// two callers of one role never share one; callers with no key: their address's) and from its client address's bucket; export and batch also spend from
/// their own, smaller per-caller buckets. Over the limit: 429 with Retry-After.
/// </summary>
public sealed class RateLimitingOptions
{
    public const string Section = "RateLimiting";

    public bool Enabled { get; set; } = true;
    public TokenBucket PerKey { get; set; } = new() { PermitsPerSecond = 1000, Burst = 2000 };
    public TokenBucket PerAddress { get; set; } = new() { PermitsPerSecond = 2000, Burst = 4000 };
    public TokenBucket Export { get; set; } = new() { PermitsPerSecond = 1, Burst = 3 };
    public TokenBucket Batch { get; set; } = new() { PermitsPerSecond = 20, Burst = 40 };
}

public static class RateLimitingDefaults
{
    public const string ExportPolicy = "export";
    public const string BatchPolicy = "batch";

    public static IServiceCollection AddNexusRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(RateLimitingOptions.Section).Get<RateLimitingOptions>() ?? new RateLimitingOptions();
        foreach (var bucket in new[] { options.PerKey, options.PerAddress, options.Export, options.Batch })
        {
            if (bucket.PermitsPerSecond < 1 || bucket.Burst < 1)
            {
                throw new InvalidOperationException("RateLimiting buckets need PermitsPerSecond and Burst of at least 1.");
            }
        }

        services.AddRateLimiter(limiter =>
        {
            // ASP.NET answers 503 by default; a caller over its limit must see 429 and when to retry.
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = async (context, ct) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
                context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                await context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context.HttpContext,
                    ProblemDetails = new ProblemDetails
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too Many Requests",
                        Detail = $"Rate limit reached; retry after {retryAfter} s.",
                    },
                });
            };

            // Routes name these policies, so they exist even with limits off (else ASP.NET answers 500).
            limiter.AddPolicy(ExportPolicy, http => PerCaller(http, options.Export));
            limiter.AddPolicy(BatchPolicy, http => PerCaller(http, options.Batch));
            if (options.Enabled)
            {
                limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                    PartitionedRateLimiter.Create<HttpContext, string>(http => Bucket(CallerOf(http), options.PerKey)),
                    PartitionedRateLimiter.Create<HttpContext, string>(http => Bucket(AddressOf(http), options.PerAddress)));
            }
        });
        return services;

        RateLimitPartition<string> PerCaller(HttpContext http, TokenBucket bucket) =>
            options.Enabled ? Bucket(CallerOf(http), bucket) : RateLimitPartition.GetNoLimiter(string.Empty);
    }

    /// <summary>The API key's id once authenticated, else the client address: whom a limit applies to.</summary>
    private static string CallerOf(HttpContext http) =>
        http.User.Identity is { IsAuthenticated: true, Name: { } name } ? "key:" + name : AddressOf(http);

    private static string AddressOf(HttpContext http) => "ip:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown");

    private static RateLimitPartition<string> Bucket(string partition, TokenBucket bucket) =>
        RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = bucket.Burst,
            TokensPerPeriod = bucket.PermitsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
}
