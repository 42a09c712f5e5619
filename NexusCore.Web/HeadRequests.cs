using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace NexusCore.Web;

/// <summary>
/// RFC 9110 §9.3.2: HEAD is GET without the content, and a general-purpose server must support both. A HEAD
/// request is routed as the GET of the same target, so every GET route answers it with the same status and
/// headers (ETag and 304 included); Kestrel, which parsed the request as HEAD, sends no body. Routes stay
/// documented once, as GET. A route whose GET is costly to produce (the export) checks <see cref="IsHead"/>
/// and stops after its headers.
/// </summary>
public static class HeadRequests
{
    private static readonly object Marker = new();

    /// <summary>Must run before routing, so that the route matched is the GET's.</summary>
    public static IApplicationBuilder UseHeadAsGet(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (HttpMethods.IsHead(context.Request.Method))
        {
            context.Items[Marker] = true;
            context.Request.Method = HttpMethods.Get;
        }

        return next(context);
    });

    /// <summary>A 405's <c>Allow</c>, which routing fills from the route's methods, lists HEAD wherever it lists GET.</summary>
    public static void AddHeadToAllow(HttpResponse response)
    {
        var methods = response.Headers.Allow.ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (methods.Contains(HttpMethods.Get, StringComparer.OrdinalIgnoreCase) && !methods.Contains(HttpMethods.Head, StringComparer.OrdinalIgnoreCase))
        {
            response.Headers.Allow = string.Join(", ", methods.Append(HttpMethods.Head).Order(StringComparer.Ordinal));
        }
    }

    /// <summary>Whether the client sent HEAD (the request now reads as GET).</summary>
    public static bool IsHead(HttpContext context) => context.Items.ContainsKey(Marker);
}
