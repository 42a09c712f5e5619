using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace NexusCore.Web;

/// <summary>Section <c>RequestLimits</c>: the largest request line and headers the APIs answer.</summary>
public sealed class RequestSizeLimits
{
    public const string Section = "RequestLimits";

    /// <summary>The longest request target (path and query string) in bytes; a longer one is a 414 problem.</summary>
    public int MaxTargetBytes { get; set; } = 8 * 1024;

    /// <summary>The most header bytes (each name, value, ": " and line end); more is a 431 problem.</summary>
    public int MaxHeaderBytes { get; set; } = 32 * 1024;

    /// <summary>The most header fields; more is a 431 problem.</summary>
    public int MaxHeaderCount { get; set; } = 100;
}

/// <summary>
/// A request target, header section or header count over the stated limits gets a 414 or 431 problem that
/// says by how much, and which header is largest. Kestrel refuses what exceeds its own limits before any middleware
/// runs, with a bare status and no body, so its limits are set to twice these: a request over our limit
/// reaches this rule, and only one over twice it gets Kestrel's bare answer.
/// </summary>
public static class RequestSizeRules
{
    private static readonly System.Text.Encoding LenientUtf8 = new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    public static IServiceCollection AddRequestSizeRules(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RequestSizeLimits>()
            .Bind(configuration.GetSection(RequestSizeLimits.Section))
            .Validate(limits => limits.MaxTargetBytes is > 0 and <= 1024 * 1024 && limits.MaxHeaderBytes is > 0 and <= 1024 * 1024,
                "RequestLimits:MaxTargetBytes and MaxHeaderBytes must be from 1 to 1,048,576.")
            .Validate(limits => limits.MaxHeaderCount is > 0 and <= 10_000, "RequestLimits:MaxHeaderCount must be from 1 to 10,000.")
            .ValidateOnStart();

        services.AddOptions<KestrelServerOptions>().PostConfigure<IOptions<RequestSizeLimits>>((kestrel, limits) =>
        {
            // The request line also holds the method and the protocol version.
            kestrel.Limits.MaxRequestLineSize = Math.Max(kestrel.Limits.MaxRequestLineSize, (2 * limits.Value.MaxTargetBytes) + 64);
            kestrel.Limits.MaxRequestHeadersTotalSize = Math.Max(kestrel.Limits.MaxRequestHeadersTotalSize, 2 * limits.Value.MaxHeaderBytes);
            kestrel.Limits.MaxRequestHeaderCount = Math.Max(kestrel.Limits.MaxRequestHeaderCount, 2 * limits.Value.MaxHeaderCount);

            // Kestrel's own decoding refuses a header value that is not UTF-8 while it parses the request, with a
            // bare 400 and no body. Decoded leniently (each bad byte becomes U+FFFD), the request reaches the
            // rule below, which answers a problem naming the header.
            kestrel.RequestHeaderEncodingSelector = _ => LenientUtf8;
        });
        return services;
    }

    public static IApplicationBuilder UseRequestSizeRules(this IApplicationBuilder app)
    {
        var limits = app.ApplicationServices.GetRequiredService<IOptions<RequestSizeLimits>>().Value;
        return app.Use(async (context, next) =>
        {
            var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
            if (target.Length > limits.MaxTargetBytes)
            {
                await context.WriteProblemAsync(StatusCodes.Status414UriTooLong, string.Create(CultureInfo.InvariantCulture,
                    $"The request target is {target.Length:N0} bytes; this API takes at most {limits.MaxTargetBytes:N0}. Send long lists in a request body (e.g. POST by-ids)."));
                return;
            }

            var (total, fields) = (0L, 0);
            var (largest, largestBytes) = ("", 0L);
            string? undecodable = null;
            foreach (var (name, values) in context.Request.Headers)
            {
                var bytes = 0L;
                foreach (var value in values)
                {
                    bytes += name.Length + 4 + (value?.Length ?? 0);
                    fields++;
                    if (value is not null && value.AsSpan().ContainsAny('\uFFFD', '\0'))
                    {
                        undecodable ??= name;
                    }
                }

                total += bytes;
                if (bytes > largestBytes)
                {
                    (largest, largestBytes) = (name, bytes);
                }
            }

            if (total > limits.MaxHeaderBytes)
            {
                await context.WriteProblemAsync(StatusCodes.Status431RequestHeaderFieldsTooLarge, string.Create(CultureInfo.InvariantCulture,
                    $"The request headers are {total:N0} bytes; this API takes at most {limits.MaxHeaderBytes:N0}. The largest is '{largest}' ({largestBytes:N0} bytes)."));
                return;
            }

            if (fields > limits.MaxHeaderCount)
            {
                await context.WriteProblemAsync(StatusCodes.Status431RequestHeaderFieldsTooLarge, string.Create(CultureInfo.InvariantCulture,
                    $"The request has {fields:N0} header fields; this API takes at most {limits.MaxHeaderCount:N0}."));
                return;
            }

            if (undecodable is not null)
            {
                var reason = $"The value of header '{undecodable}' is not UTF-8 text (or holds U+FFFD or NUL); send header values in ASCII or UTF-8.";
                await context.WriteProblemAsync(StatusCodes.Status400BadRequest, reason, new[] { new HeaderError(undecodable, reason, "header_invalid") });
                return;
            }

            await next(context);
        });
    }

    /// <summary>One refused header, in the shape of the endpoints' validation errors.</summary>
    private sealed record HeaderError(
        [property: System.Text.Json.Serialization.JsonPropertyName("name")] string Name,
        [property: System.Text.Json.Serialization.JsonPropertyName("reason")] string Reason,
        [property: System.Text.Json.Serialization.JsonPropertyName("code")] string Code);
}
