using System.Globalization;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using NexusCore.ClientsApi.Caching;

namespace NexusCore.ClientsApi.Features.Clients;

/// <summary>
/// How a read served through <see cref="ReadCache"/> answers over HTTP: the stored JSON bytes in one write, its ETag,
/// <c>Cache-Control: private, no-cache</c>, <c>X-Cache</c> (HIT, MISS, STALE, BYPASS), <c>Age</c>, and 304 when a GET
/// or HEAD's <c>If-None-Match</c> names the ETag.
/// </summary>
public static class CachedReads
{
    // Header values a hit would otherwise build on every request.
    private static readonly string[] Outcomes = Enum.GetValues<CacheOutcome>().Select(o => o.ToString().ToUpperInvariant()).ToArray();
    private static readonly string[] Ages = Enumerable.Range(0, 1024).Select(a => a.ToString(CultureInfo.InvariantCulture)).ToArray();

    public static async Task SendAsync(HttpContext http, CacheResult result, CancellationToken ct)
    {
        var response = http.Response;
        var etag = result.Response.ETag;
        if (etag.Length > 0)
        {
            response.Headers.ETag = etag;
        }

        response.Headers.CacheControl = "private, no-cache";
        response.Headers["X-Cache"] = Outcomes[(int)result.Outcome];
        response.Headers.Age = AgeHeader((long)result.Age.TotalSeconds);
        if (result.Outcome == CacheOutcome.Stale)
        {
            // RFC 9111's warning for content served past its freshness because the origin failed.
            response.Headers["X-Cache-Stale"] = "true";
        }

        if (etag.Length > 0 && IsNotModified(http.Request, etag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            await response.StartAsync(ct);
            return;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = result.Response.Body.Length;
        await response.Body.WriteAsync(result.Response.Body, ct);
    }

    /// <summary>
    /// RFC 9110 §13.1.2: a GET or HEAD whose If-None-Match is <c>*</c> or names <paramref name="etag"/> by weak comparison
    /// (<c>W/"x"</c> matches <c>"x"</c>). Values that are not entity tags are skipped, as the framework's lenient list
    /// parser does; no header, the case of nearly every request, costs one lookup.
    /// </summary>
    private static bool IsNotModified(HttpRequest request, string etag)
    {
        var header = request.Headers.IfNoneMatch;
        if (StringValues.IsNullOrEmpty(header)
            || !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
            || !EntityTagHeaderValue.TryParseList(header, out var candidates))
        {
            return false;
        }

        foreach (var candidate in candidates)
        {
            if (candidate.Equals(EntityTagHeaderValue.Any) || candidate.Tag.Equals(etag, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static string AgeHeader(long seconds) =>
        (ulong)seconds < (ulong)Ages.Length ? Ages[seconds] : seconds.ToString(CultureInfo.InvariantCulture);
}
