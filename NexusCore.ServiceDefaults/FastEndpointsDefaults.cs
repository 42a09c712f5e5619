using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using FastEndpoints;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using FluentValidation.Results;

namespace Microsoft.Extensions.Hosting;

/// <summary>How every NexusCore API configures FastEndpoints: routes, JSON, and RFC 9457 errors.</summary>
public static partial class FastEndpointsDefaults
{
    public const string RoutePrefix = "api/v1";

    public static void UseNexusDefaults(this Config config)
    {
        config.Endpoints.RoutePrefix = RoutePrefix;

        // A misspelt field is an error the caller should see, not a value silently dropped.
        config.Serializer.Options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        // Enums are their documented names only: a number (7, or "7") would bind to a value no name stands for.
        config.Serializer.Options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        config.Binding.JsonExceptionTransformer = DescribeJsonError;

        config.Errors.UseProblemDetails(problems =>
        {
            problems.TypeTransformer = problem => ProblemTypes.For(problem.Status);
            problems.IndicateErrorCode = true;

            // One error is its own detail; several are summed up, so every problem says what went wrong.
            problems.DetailTransformer = problem => problem.Detail
                ?? (problem.Errors.Count() > 1 ? ProblemDetailsDefaults.Summary([.. problem.Errors.Select(e => e.Reason)]) : null);
        });
    }

    /// <summary>
    /// A GET, HEAD or DELETE without a body has nothing for a media type to describe: some HTTP clients
    /// send <c>Content-Type: application/json</c> on every request, and FastEndpoints would then try to
    /// read an empty JSON body and answer 400. The header is dropped so such requests bind from the route
    /// and query as usual.
    /// </summary>
    public static IApplicationBuilder UseBodylessContentTypeTolerance(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            var request = context.Request;
            if ((HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsDelete(request.Method))
                && request.ContentType is not null
                && context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
            {
                request.ContentType = null;
            }

            return next(context);
        });

    /// <summary>Turns a deserialization failure into a field-level error that names the field, without .NET type names.</summary>
    private static ValidationFailure DescribeJsonError(JsonException exception)
    {
        if (UnmappedProperty().Match(exception.Message) is { Success: true } unmapped)
        {
            var field = unmapped.Groups[1].Value;
            return new ValidationFailure(field, $"'{field}' is not a known field.") { ErrorCode = "unknown_field" };
        }

        // Syntax errors come from the reader; anything else at a field's path is a value of the wrong type.
        var isSyntaxError = exception.GetType().Name == "JsonReaderException"
            || exception.InnerException?.GetType().Name == "JsonReaderException";
        var path = exception.Path is { Length: > 2 } p && p.StartsWith("$.", StringComparison.Ordinal) ? p[2..] : null;
        if (path is not null && !isSyntaxError)
        {
            return new ValidationFailure(path, $"'{path}' has the wrong type or is not one of the allowed values.") { ErrorCode = "invalid_type" };
        }

        return new ValidationFailure("body",
            $"The request body is not valid JSON for this endpoint (line {exception.LineNumber ?? 0}, byte {exception.BytePositionInLine ?? 0}).")
        {
            ErrorCode = "invalid_json",
        };
    }

    [GeneratedRegex("The JSON property '([^']*)' could not be mapped", RegexOptions.CultureInvariant)]
    private static partial Regex UnmappedProperty();
}
