using FastEndpoints;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NexusCore.ServiceDefaults;
using OpenTelemetry.Instrumentation.AspNetCore;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace NexusCore.Web;

/// <summary>
/// What both APIs add to ServiceDefaults: ASP.NET Core's request telemetry, the liveness probe and <c>/health</c>, the
/// conventions they share (problem details, request limits, CORS, API keys, rate limits) and the one middleware
/// pipeline. Kept out of ServiceDefaults so that a worker (the migrator) takes no web framework.
/// </summary>
public static class WebDefaults
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";

    private static readonly byte[] Healthy = "Healthy"u8.ToArray();

    /// <summary>Call after <c>AddServiceDefaults()</c>; the service then registers its own endpoints' document.</summary>
    public static TBuilder AddWebDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics.AddAspNetCoreInstrumentation())
            .WithTracing(tracing => tracing.AddAspNetCoreInstrumentation(options =>
            {
                // Query strings carry what users typed (a searched name, an email): keep the names only.
                options.EnrichWithHttpRequest = (activity, request) =>
                {
                    if (request.QueryString.HasValue)
                    {
                        activity.SetTag("url.query", ServiceDefaults.Extensions.RedactedQuery(request.Query.Keys));
                    }
                };
            }));

        // Probes and OTLP ingest would drown real traffic in the traces and the request metrics.
        builder.Services.AddOptions<UntracedPaths>();
        builder.Services.AddOptions<AspNetCoreTraceInstrumentationOptions>()
            .Configure<IOptions<UntracedPaths>>((options, untraced) => options.Filter = context => !untraced.Value.Matches(context.Request.Path));
        builder.Services.AddTransient<IStartupFilter, UntracedPathsExtensions.MetricsFilter>();

        builder.Services.AddNexusProblemDetails();
        builder.Services.AddRequestSizeRules(builder.Configuration);
        builder.Services.AddNexusCors(builder.Configuration);
        builder.Services.AddApiKeyAuthentication();
        // Per-key and per-address token buckets (section RateLimiting): 429 with Retry-After.
        builder.Services.AddNexusRateLimiting(builder.Configuration);
        return builder;
    }

    /// <summary>
    /// The pipeline both APIs run, in this order: the liveness probe, HEAD as GET, routing, problems for exceptions
    /// and bare status codes, CORS, request limits, authentication, rate limits, authorization, the query-string and
    /// media-type rules, then the endpoints (FastEndpoints with the shared defaults, then <paramref name="configure"/>),
    /// the OpenAPI document and its reference page titled <paramref name="title"/>.
    /// </summary>
    public static WebApplication UseApiPipeline(this WebApplication app, string title, Action<Config>? configure = null)
    {
        // Liveness probes first: they need none of what follows.
        app.UseLivenessProbe();

        // HEAD reads as GET before routing picks the route (routing is otherwise first of all).
        app.UseHeadAsGet();
        app.UseRouting();
        app.UseTraceIdentifierOfTheRequestSpan();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseNexusCors();
        app.UseRequestSizeRules();
        app.UseBodylessContentTypeTolerance();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseQueryStringRules();
        app.UseRequestMediaTypeRules();

        app.UseFastEndpoints(config =>
        {
            config.UseNexusDefaults();
            configure?.Invoke(config);
        });

        // The OpenAPI document's middleware runs only for its own path, not on every request; the interactive
        // reference (Scalar, at /scalar) is a few routes, not middleware.
        app.UseNexusOpenApiDocument();
        app.MapNexusApiReference(title);
        return app;
    }

    /// <summary>
    /// Maps <c>/health</c> (every check must pass: ready for traffic). <c>/alive</c> is answered by the liveness probe
    /// at the front of <see cref="UseApiPipeline"/>. Unlike the template, health is mapped in every environment,
    /// because orchestrators probe production too; it reports only a status word, never check details.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthEndpointPath);
        return app;
    }

    /// <summary>
    /// Answers <c>/alive</c> (GET or HEAD: the process answers) before anything else runs: no routing,
    /// authentication, rate limiting, health-check service or OpenAPI middleware, and no request metrics
    /// (a probe is not API traffic). The body is the health-check word (<c>Healthy</c>).
    /// </summary>
    private static void UseLivenessProbe(this WebApplication app) => app.Use(static (context, next) =>
    {
        var request = context.Request;
        if (!request.Path.Equals(AlivenessEndpointPath, StringComparison.OrdinalIgnoreCase)
            || !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)))
        {
            return next(context);
        }

        if (context.Features.Get<IHttpMetricsTagsFeature>() is { } metrics)
        {
            metrics.MetricsDisabled = true;
        }

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/plain";
        response.Headers.CacheControl = "no-store, no-cache";
        response.ContentLength = Healthy.Length;
        return HttpMethods.IsHead(request.Method) ? Task.CompletedTask : response.Body.WriteAsync(Healthy).AsTask();
    });
}
