using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace NexusCore.Web;

/// <summary>
/// RFC 9457 problem responses for everything ASP.NET itself answers (unhandled exceptions, bare status
/// codes), with the same stable <c>type</c> values the endpoints use.
/// </summary>
public static class ProblemDetailsDefaults
{
    public static IServiceCollection AddNexusProblemDetails(this IServiceCollection services)
    {
        // First in line: problems are always written as JSON, even to a client whose Accept asks for
        // CSV or XML (the default writer would refuse and leave a bare status code).
        services.AddSingleton<IProblemDetailsWriter, AlwaysJsonProblemDetailsWriter>();
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
            if (status == StatusCodes.Status405MethodNotAllowed)
            {
                HeadRequests.AddHeadToAllow(context.HttpContext.Response);
            }

            context.ProblemDetails.Type = ProblemTypes.For(status);
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
            context.ProblemDetails.Detail ??= DefaultDetail(status, context.HttpContext);
            context.ProblemDetails.Extensions["traceId"] = context.HttpContext.TraceIdentifier;
        });
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        services.AddExceptionHandler<DependencyUnavailableExceptionHandler>();
        return services;
    }

    /// <summary>One detail for several reasons (a request can break more than one rule): the reason itself when there is one.</summary>
    internal static string Summary(IReadOnlyCollection<string> reasons) =>
        reasons.Count == 1 ? reasons.First() : $"{reasons.Count} problems: " + string.Join(" ", reasons);

    /// <summary>Answers a request from middleware with a problem of <paramref name="status"/>, and its field errors if any.</summary>
    internal static ValueTask WriteProblemAsync(this HttpContext context, int status, string detail, object? errors = null)
    {
        context.Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Detail = detail };
        if (errors is not null)
        {
            problem.Extensions["errors"] = errors;
        }

        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }

    /// <summary>What a bare status code means for this request: routing's 404, 405 and 415 carry no detail of their own.</summary>
    private static string DefaultDetail(int status, HttpContext http)
    {
        var request = http.Request;
        return status switch
        {
            StatusCodes.Status404NotFound => $"No route matches {request.Method} {request.Path}.",
            StatusCodes.Status405MethodNotAllowed => $"{request.Method} is not allowed on {request.Path}"
                + (http.Response.Headers.Allow is { Count: > 0 } allow ? $"; it allows {allow}." : "."),
            StatusCodes.Status415UnsupportedMediaType => string.IsNullOrEmpty(request.ContentType)
                ? "The request body needs a Content-Type; send application/json."
                : $"This route does not read a body of type '{request.ContentType}'; send application/json.",
            _ => ReasonPhrases.GetReasonPhrase(status),
        };
    }

    /// <summary>
    /// Makes a traced request's <see cref="HttpContext.TraceIdentifier"/> its W3C trace context id (the
    /// request span's, <c>00-{trace id}-{span id}-01</c>), so every problem's <c>traceId</c> names the trace
    /// an operator finds in the dashboard, whoever writes the problem: FastEndpoints' validation responses
    /// read <c>TraceIdentifier</c>, which is otherwise Kestrel's connection and request number. An
    /// untraced request keeps Kestrel's identifier. Goes first in the pipeline.
    /// </summary>
    public static IApplicationBuilder UseTraceIdentifierOfTheRequestSpan(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            if (context.Features.Get<IHttpActivityFeature>()?.Activity is { IdFormat: ActivityIdFormat.W3C, Id: { } id })
            {
                context.TraceIdentifier = id;
            }

            return next(context);
        });
}

/// <summary>Writes every problem as <c>application/problem+json</c>, whatever the request's Accept header says.</summary>
internal sealed class AlwaysJsonProblemDetailsWriter(Microsoft.Extensions.Options.IOptions<ProblemDetailsOptions> options) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        problem.Status ??= context.HttpContext.Response.StatusCode;
        problem.Title ??= ReasonPhrases.GetReasonPhrase(problem.Status.Value);
        options.Value.CustomizeProblemDetails?.Invoke(context);
        return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(
            problem, typeof(ProblemDetails), (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json", context.HttpContext.RequestAborted));
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
        StatusCodes.Status406NotAcceptable => Base + "not-acceptable",
        StatusCodes.Status409Conflict => Base + "conflict",
        StatusCodes.Status412PreconditionFailed => Base + "precondition-failed",
        StatusCodes.Status413PayloadTooLarge => Base + "payload-too-large",
        StatusCodes.Status414UriTooLong => Base + "uri-too-long",
        StatusCodes.Status415UnsupportedMediaType => Base + "unsupported-media-type",
        StatusCodes.Status422UnprocessableEntity => Base + "unprocessable",
        StatusCodes.Status429TooManyRequests => Base + "rate-limited",
        StatusCodes.Status431RequestHeaderFieldsTooLarge => Base + "headers-too-large",
        StatusCodes.Status503ServiceUnavailable => Base + "dependency-unavailable",
        _ => Base + (status >= 500 ? "server-error" : "client-error"),
    };
}

/// <summary>
/// Kestrel rejects some requests while the body is read (too large: 413, malformed framing: 400);
/// they keep their status instead of becoming a 500.
/// </summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problemDetails) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad)
        {
            return false;
        }

        httpContext.Response.StatusCode = bad.StatusCode;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new ProblemDetails
            {
                Status = bad.StatusCode,
                Detail = bad.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? "The request body is larger than this endpoint accepts."
                    : "The request could not be read.",
            },
        });
    }
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
        var problem = new ProblemDetails
        {
            Status = StatusCodes.Status503ServiceUnavailable,
            Title = "A dependency is unavailable",
            Detail = "The database could not serve this request in time. Retry after the indicated delay.",
        };
        // A service that owns the database adds what it knows (ClientsApi: whether a write can have been applied)
        // through ProblemDetailsOptions.CustomizeProblemDetails, which sees the exception.
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = problem,
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
