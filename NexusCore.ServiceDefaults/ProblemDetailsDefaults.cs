using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// RFC 9457 problem responses for everything ASP.NET itself answers (unhandled exceptions, bare status
/// codes), with the same stable <c>type</c> values the endpoints use.
/// </summary>
public static class ProblemDetailsDefaults
{
    public static IServiceCollection AddNexusProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
            context.ProblemDetails.Type = ProblemTypes.For(status);
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
            context.ProblemDetails.Extensions["traceId"] = Activity.Current?.Id ?? context.HttpContext.TraceIdentifier;
        });
        services.AddExceptionHandler<DependencyUnavailableExceptionHandler>();
        return services;
    }
}

/// <summary>Stable problem <c>type</c> URIs, one per kind of failure a client can act on.</summary>
public static class ProblemTypes
{
    private const string Base = "https://nexuscore.dev/problems/";

    public static string For(int status) => status switch
    {
        StatusCodes.Status400BadRequest => Base + "validation",
        StatusCodes.Status401Unauthorized => Base + "unauthenticated",
        StatusCodes.Status403Forbidden => Base + "forbidden",
        StatusCodes.Status404NotFound => Base + "not-found",
        StatusCodes.Status405MethodNotAllowed => Base + "method-not-allowed",
        StatusCodes.Status409Conflict => Base + "conflict",
        StatusCodes.Status413PayloadTooLarge => Base + "payload-too-large",
        StatusCodes.Status415UnsupportedMediaType => Base + "unsupported-media-type",
        StatusCodes.Status422UnprocessableEntity => Base + "unprocessable",
        StatusCodes.Status429TooManyRequests => Base + "rate-limited",
        StatusCodes.Status503ServiceUnavailable => Base + "dependency-unavailable",
        _ => Base + (status >= 500 ? "server-error" : "client-error"),
    };
}

/// <summary>
/// A database or cache that cannot be reached is an outage, not a bug: answer 503 with
/// <c>Retry-After</c> so callers back off and retry, instead of a 500.
/// </summary>
internal sealed partial class DependencyUnavailableExceptionHandler(
    IProblemDetailsService problemDetails, ILogger<DependencyUnavailableExceptionHandler> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 2;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsDependencyOutage(exception))
        {
            return false;
        }

        LogDependencyUnavailable(exception.GetType().Name);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "A dependency is unavailable",
                Detail = "The database could not serve this request in time. Retry after the indicated delay.",
            },
        });
    }

    private static bool IsDependencyOutage(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case TimeoutException:
                case SocketException:
                // Npgsql marks lost connections, pool timeouts and server shutdowns as transient.
                case System.Data.Common.DbException { IsTransient: true }:
                    return true;
            }
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Answered 503: a dependency is unavailable ({ExceptionType})")]
    private partial void LogDependencyUnavailable(string exceptionType);
}
