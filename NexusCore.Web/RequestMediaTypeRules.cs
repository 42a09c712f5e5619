using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Net.Http.Headers;

namespace NexusCore.Web;

/// <summary>
/// A request body's <c>Content-Type</c> is checked before an endpoint reads it, so a media type or charset
/// nothing here can read is a 415 problem naming it rather than an exception in the JSON reader (a 500),
/// a body silently ignored, or a bare 415 without a document.
/// </summary>
public static class RequestMediaTypeRules
{
    public static IApplicationBuilder UseRequestMediaTypeRules(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (Check(context) is { } detail)
            {
                await context.WriteProblemAsync(StatusCodes.Status415UnsupportedMediaType, detail);
                return;
            }

            await next(context);
        });

    /// <summary>Why the request's body cannot be read, or null; normalizes a quoted or aliased UTF-8 charset.</summary>
    private static string? Check(HttpContext context)
    {
        var request = context.Request;
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>() is not { CanHaveBody: true })
        {
            return null;
        }

        var accepted = context.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>()?.ContentTypes ?? [];
        if (string.IsNullOrWhiteSpace(request.ContentType))
        {
            return accepted.Count == 0 ? null : $"The request has a body but no Content-Type; this endpoint reads {string.Join(" or ", accepted)}.";
        }

        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var media) || media.MediaType.Length == 0 || !media.MediaType.Value!.Contains('/'))
        {
            return $"Content-Type '{request.ContentType}' is not a media type (RFC 9110 §8.3).";
        }

        var isJson = media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.MediaType.Value!.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
        if (!isJson || !media.Charset.HasValue && media.Parameters.All(p => !p.Name.Equals("charset", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        var charset = HeaderUtilities.RemoveQuotes(media.Charset).ToString().Trim();
        if (charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
        {
            charset = "utf-8";
        }

        if (!IsKnownEncoding(charset))
        {
            return $"charset '{charset}' is not an encoding this API reads; send JSON in UTF-8 (RFC 8259 §8.1).";
        }

        if (!string.Equals(charset, media.Charset.ToString(), StringComparison.Ordinal))
        {
            media.Charset = charset;
            request.ContentType = media.ToString();
        }

        return null;
    }

    private static bool IsKnownEncoding(string charset)
    {
        if (charset.Length == 0)
        {
            return false;
        }

        try
        {
            // UTF-7 is refused by .NET itself (SYSLIB0001) and so is anything outside its built-in encodings.
            return Encoding.GetEncoding(charset) is not null;
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
        {
            return false;
        }
    }
}
