using System.Globalization;
using System.Numerics;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using FastEndpoints;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using FluentValidation.Results;

namespace NexusCore.Web;

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
        // A number is a JSON number: "01" for an id is a string, as it is to every strict JSON reader
        // (ASP.NET's web defaults would read it as 1).
        config.Serializer.Options.NumberHandling = JsonNumberHandling.Strict;
        // A request model's header and route properties are bound from the header and the route only: as JSON
        // they do not exist, so a body's "ifMatch", "idempotencyKey" or "id" is an unknown field (400) rather than
        // a second way to send the header or to aim the write at another id.
        config.Serializer.Options.TypeInfoResolver = (config.Serializer.Options.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver())
            .WithAddedModifier(RemoveNonBodyProperties);
        config.Binding.JsonExceptionTransformer = DescribeJsonError;

        // Route and query integers are digits with an optional minus: .NET's parsing would also take
        // surrounding spaces ("/clients/%201"), a plus sign and trailing NULs.
        // FastEndpoints looks parsers up by the property's exact type, so a nullable one is registered as well.
        Strict(typeof(long), StrictInteger<long>);
        Strict(typeof(int), StrictInteger<int>);
        // A date is 2025-03-31 only (DateOnly's own parsing also takes 03/31/2025 and "31 March 2025").
        Strict(typeof(DateOnly), StrictDate);
        // An enum is one of its documented (camel-case) names, as in JSON: never a number, which .NET would map
        // to any value, nor another letter case. For every enum of the service (its request models' among them).
        foreach (var type in Assembly.GetEntryAssembly()?.GetTypes().Where(t => t.IsEnum) ?? [])
        {
            Strict(type, input => StrictEnum(input, type));
        }

        // A list in a query string is its parameter repeated (status=a&status=b), OpenAPI's default form for a query
        // array: FastEndpoints would also split one value at its commas, a form the documents do not describe.
        config.Binding.ValueParserFor<string[]>(input => new ParseResult(true, input.Select(v => v ?? "").ToArray()));

        config.Binding.FailureMessage = DescribeBindingFailure;

        void Strict(Type type, Func<StringValues, ParseResult> parser)
        {
            config.Binding.ValueParserFor(type, parser);
            config.Binding.ValueParserFor(typeof(Nullable<>).MakeGenericType(type), parser);
        }

        // A route without parameters still has a request model (empty), so the query-string rule knows it takes none.
        config.Endpoints.AllowEmptyRequestDtos = true;
        // The query-string rule runs on every route. FastEndpoints keeps one configurator (write-only): another
        // global setting for every endpoint belongs in this one.
        var rule = new QueryStringRule();
        config.Endpoints.Configurator = endpoint => endpoint.PreProcessors(Order.Before, rule);

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

    private static ParseResult StrictInteger<T>(StringValues input) where T : IBinaryInteger<T> =>
        IsInteger(input, out var text) && T.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? new ParseResult(true, value)
            : new ParseResult(false, null);

    private static void RemoveNonBodyProperties(JsonTypeInfo type)
    {
        if (type.Kind != JsonTypeInfoKind.Object)
        {
            return;
        }

        for (var i = type.Properties.Count - 1; i >= 0; i--)
        {
            if (type.Properties[i].AttributeProvider is { } attributes
                && (attributes.IsDefined(typeof(FromHeaderAttribute), true) || attributes.IsDefined(typeof(RouteParamAttribute), true)))
            {
                type.Properties.RemoveAt(i);
            }
        }
    }

    private static ParseResult StrictDate(StringValues input) =>
        input.Count == 1 && DateOnly.TryParseExact(input[0], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? new ParseResult(true, date)
            : new ParseResult(false, null);

    private static ParseResult StrictEnum(StringValues input, Type type)
    {
        var name = input.Count == 1 ? Enum.GetNames(type).FirstOrDefault(n => JsonNamingPolicy.CamelCase.ConvertName(n) == input[0]) : null;
        return name is null ? new ParseResult(false, null) : new ParseResult(true, Enum.Parse(type, name));
    }

    /// <summary>One value of ASCII digits, optionally after a minus sign.</summary>
    private static bool IsInteger(StringValues input, out string text)
    {
        text = input.Count == 1 ? input[0] ?? "" : "";
        var digits = text.AsSpan(text.StartsWith('-') ? 1 : 0);
        return digits.Length > 0 && !digits.ContainsAnyExceptInRange('0', '9');
    }

    /// <summary>A route, query or header value that does not parse, said in the API's words rather than .NET's type names.</summary>
    private static string DescribeBindingFailure(Type type, string name, StringValues value)
    {
        var given = value.ToString();
        var shown = given.Length > 40 ? given[..40] + "…" : given;
        var expected = (Nullable.GetUnderlyingType(type) ?? type) switch
        {
            var t when t.IsEnum => "one of: " + string.Join(", ", Enum.GetNames(t).Select(JsonNamingPolicy.CamelCase.ConvertName)),
            var t when t == typeof(DateOnly) => "a date written as 2025-03-31",
            var t when t == typeof(long) => $"a whole number written in digits, at most {long.MaxValue}",
            var t when t == typeof(int) => $"a whole number written in digits, at most {int.MaxValue}",
            var t when t == typeof(bool) => "true or false",
            var t when t == typeof(double) || t == typeof(decimal) => "a number, e.g. 1.5",
            _ => $"a valid {type.Name}",
        };
        return $"'{name}' must be {expected}; '{shown}' is not.";
    }

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
