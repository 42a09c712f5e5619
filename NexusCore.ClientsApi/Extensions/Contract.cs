using FastEndpoints;

namespace NexusCore.ClientsApi.Extensions;

/// <summary>
/// What every ClientsApi route declares in the OpenAPI document beyond its own responses: the problems any
/// route can answer (400 for its parameters, 401 and 403 for its key, 429 for its caller's rate limit),
/// and the headers of cached reads.
/// </summary>
internal static class Contract
{
    /// <summary>The statuses every route can answer with a problem.</summary>
    public static readonly int[] Always = [400, 401, 403, 429];

    /// <summary>Declares RFC 9457 problem responses for <see cref="Always"/> and <paramref name="statuses"/>.</summary>
    public static RouteHandlerBuilder Problems(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in Always.Concat(statuses).Distinct().Order())
        {
            builder.ProducesProblemFE<FastEndpoints.ProblemDetails>(status);
        }

        return builder;
    }

    /// <summary>The headers a read served through the cache sends (<c>CachedReads.SendAsync</c>), on 200 and 304.</summary>
    public static void CachedReadHeaders(this EndpointSummary summary, bool etag = true)
    {
        foreach (var status in new[] { 200, 304 })
        {
            if (etag)
            {
                summary.ResponseHeaders.Add(new ResponseHeader(status, "ETag")
                {
                    Description = "The response's entity tag; send it back in If-None-Match to get a 304 while it is current.",
                });
            }

            summary.ResponseHeaders.Add(new ResponseHeader(status, "X-Cache") { Description = "HIT, MISS, STALE or BYPASS: how the cache served this read." });
            summary.ResponseHeaders.Add(new ResponseHeader(status, "Age") { Description = "Seconds since the cached value was read from Postgres." });
        }
    }

    /// <summary><c>Retry-After</c> on the 429 and 503 a route can answer.</summary>
    public static void RetryAfterHeaders(this EndpointSummary summary, bool unavailable = true)
    {
        summary.ResponseHeaders.Add(new ResponseHeader(429, "Retry-After") { Description = "Seconds to wait before retrying." });
        if (unavailable)
        {
            summary.ResponseHeaders.Add(new ResponseHeader(503, "Retry-After") { Description = "Seconds to wait before retrying." });
        }
    }
}
