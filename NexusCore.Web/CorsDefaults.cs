using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace NexusCore.Web;

/// <summary>
/// Cross-origin access for browser frontends, with ASP.NET Core's CORS middleware. <c>CORS_ALLOWED_ORIGINS</c>
/// lists the origins allowed to call the API (comma-separated, e.g. <c>https://app.example.com,http://localhost:5173</c>,
/// or <c>*</c> for any); by default none is, and no CORS header is sent. Requests carry no cookies (an API key
/// or bearer token is a header), so credentials are never allowed.
/// </summary>
public static class CorsDefaults
{
    /// <summary>The seed's name of <see cref="AllowedOriginsOptions.AllowedOrigins"/>.</summary>
    public static readonly string Setting = NexusCore.ServiceDefaults.SeedSettings.NameOf($"{AllowedOriginsOptions.Section}:{nameof(AllowedOriginsOptions.AllowedOrigins)}");

    /// <summary>Headers a frontend sends: its key or token, JSON bodies, and the conditional and idempotent writes.</summary>
    public static readonly string[] RequestHeaders =
        ["Accept", "Authorization", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match", "X-Api-Key"];

    /// <summary>Headers a frontend may read besides the CORS-safelisted ones: validators, cache state, where a create went, when to retry.</summary>
    public static readonly string[] ResponseHeaders =
        ["Age", "ETag", "Location", "Retry-After", "X-Cache", "X-Cache-Stale"];

    /// <summary>How long a browser may reuse a preflight's answer.</summary>
    public static readonly TimeSpan PreflightMaxAge = TimeSpan.FromMinutes(10);

    public static IServiceCollection AddNexusCors(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AllowedOriginsOptions>()
            .BindConfiguration(AllowedOriginsOptions.Section)
            .Validate(options => Origins(options.AllowedOrigins) is not null)
            .ValidateOnStart();
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>()
            .Configure<Microsoft.Extensions.Options.IOptions<AllowedOriginsOptions>>((cors, allowed) => cors.AddDefaultPolicy(policy =>
        {
            var origins = Origins(allowed.Value.AllowedOrigins);
            if (origins.Count == 0)
            {
                return;
            }

            if (origins.Contains("*"))
            {
                policy.AllowAnyOrigin();
            }
            else
            {
                policy.WithOrigins([.. origins]);
            }

            policy.WithMethods("GET", "HEAD", "POST", "PATCH", "DELETE")
                .WithHeaders(RequestHeaders)
                .WithExposedHeaders(ResponseHeaders)
                .SetPreflightMaxAge(PreflightMaxAge);
        }));
        return services;
    }

    /// <summary>Answers preflights before authentication and rate limits (a browser sends no key with them), and marks allowed responses.</summary>
    public static IApplicationBuilder UseNexusCors(this IApplicationBuilder app) => app.UseCors();

    /// <summary>
    /// The configured origins, each a scheme, host and optional port (as a browser sends it in <c>Origin</c>),
    /// or <c>*</c>. Anything else stops the service at startup with a message naming it.
    /// </summary>
    public static IReadOnlyList<string> Origins(string? text)
    {
        var origins = new List<string>();
        foreach (var entry in (text ?? "").Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (entry == "*")
            {
                origins.Add(entry);
                continue;
            }

            if (!Uri.TryCreate(entry, UriKind.Absolute, out var uri)
                || uri.Scheme is not ("http" or "https")
                || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
            {
                throw new InvalidOperationException(
                    $"{Setting} must list origins such as https://app.example.com or http://localhost:5173 (scheme, host and port only), or *; '{entry}' is not one.");
            }

            origins.Add(uri.GetLeftPart(UriPartial.Authority));
        }

        return origins;
    }
}

/// <summary>Section <c>Cors</c> (seed name <c>CORS_ALLOWED_ORIGINS</c>): the origins a browser frontend may call from.</summary>
public sealed class AllowedOriginsOptions
{
    public const string Section = "Cors";

    /// <summary>Comma-separated origins, or <c>*</c>; none by default.</summary>
    public string? AllowedOrigins { get; set; }
}
