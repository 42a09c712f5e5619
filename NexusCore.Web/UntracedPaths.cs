using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace NexusCore.Web;

/// <summary>
/// Requests that are the machinery's own, not the service's work: health probes, liveness, and OTLP ingest
/// (<c>/v1/traces</c>, <c>/v1/metrics</c>, <c>/v1/logs</c>, the standard OTLP/HTTP paths). They make no span (nor do
/// their children: the health checks' queries) and are left out of the HTTP server metrics
/// (<c>http.server.request.duration</c>), so neither the dashboard's trace list nor a request rate counts them.
/// A service adds its own with <see cref="UntracedPathsExtensions.AddUntracedPaths"/>.
/// </summary>
public sealed class UntracedPaths
{
    private readonly List<PathString> _paths = [WebDefaults.HealthEndpointPath, WebDefaults.AlivenessEndpointPath, "/v1/traces", "/v1/metrics", "/v1/logs"];

    public IReadOnlyList<PathString> Paths => _paths;

    public void Add(PathString path) => _paths.Add(path);

    /// <summary>The path or one below it (<c>/health</c> covers <c>/health/details</c>).</summary>
    public bool Matches(PathString path)
    {
        foreach (var untraced in _paths)
        {
            if (path.StartsWithSegments(untraced, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}

public static class UntracedPathsExtensions
{
    /// <summary>Adds paths (and what lies below them) that make no span and count in no HTTP metric.</summary>
    public static IServiceCollection AddUntracedPaths(this IServiceCollection services, params string[] paths) =>
        services.Configure<UntracedPaths>(untraced =>
        {
            foreach (var path in paths)
            {
                untraced.Add(path);
            }
        });

    /// <summary>First in the pipeline, so a request refused early (401, 429) is left out of the metrics too.</summary>
    internal sealed class MetricsFilter(IOptions<UntracedPaths> untraced) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            var paths = untraced.Value;
            app.Use((context, nextMiddleware) =>
            {
                if (paths.Matches(context.Request.Path) && context.Features.Get<IHttpMetricsTagsFeature>() is { } metrics)
                {
                    metrics.MetricsDisabled = true;
                }

                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
