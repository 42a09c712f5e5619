using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using FastEndpoints;
using FluentValidation.Results;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace NexusCore.Web;

/// <summary>
/// The code a route, query or header value gets when it does not parse to its property's type (a word for a
/// number, a name no enum member has); without it the code is <c>parameter_invalid</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ParseErrorCodeAttribute(string code) : Attribute
{
    public string Code { get; } = code;
}

/// <summary>
/// Query-string rules every route shares. A NUL character in a parameter is a 400 before anything binds
/// (.NET's number parsing reads <c>limit=1%00</c> as 1, so it would otherwise pass unnoticed); then
/// <see cref="QueryStringRule"/> refuses unknown and repeated parameters, route by route, from the route's
/// request model.
/// </summary>
public static class QueryStringRules
{
    public static IApplicationBuilder UseQueryStringRules(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            var query = context.Request.Query;
            if (query.Count == 0)
            {
                await next(context);
                return;
            }

            var errors = new List<QueryParameterError>();
            foreach (var (name, values) in query)
            {
                if (name.Contains('\0', StringComparison.Ordinal) || values.Any(v => v?.Contains('\0', StringComparison.Ordinal) == true))
                {
                    errors.Add(new(name, $"'{name}' must not contain a NUL character.", "parameter_invalid"));
                }
            }

            if (errors.Count == 0)
            {
                await next(context);
                return;
            }

            await context.WriteProblemAsync(StatusCodes.Status400BadRequest, ProblemDetailsDefaults.Summary([.. errors.Select(e => e.Reason)]), errors);
        });

    /// <summary>One refused parameter, in the shape of the endpoints' validation errors.</summary>
    private sealed record QueryParameterError(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("reason")] string Reason,
        [property: JsonPropertyName("code")] string Code);
}

/// <summary>
/// The one rule on query strings, for every FastEndpoints route of every method: a parameter the route's
/// request model does not bind from the query is a 400 <c>unknown_parameter</c>, and one given twice is a
/// 400 <c>duplicate_parameter</c> unless it binds to a list. Names are matched exactly (FastEndpoints would
/// bind <c>Limit</c> to <c>limit</c>). A property is query-bound when it is marked <c>[QueryParam]</c>, or, on
/// a route whose methods read no body (GET, HEAD, DELETE), when it is bound from no other source (route,
/// header, claim). No handler runs, so nothing is written. It also gives the route, query and header values
/// that failed to bind their <see cref="ParseErrorCodeAttribute"/> code, so every error carries one.
/// </summary>
public sealed class QueryStringRule : IGlobalPreProcessor
{
    private static readonly ConcurrentDictionary<Endpoint, QueryShape> Shapes = new();

    public async Task PreProcessAsync(IPreProcessorContext context, CancellationToken ct)
    {
        var http = context.HttpContext;
        if (http.ResponseStarted() || http.GetEndpoint() is not { } endpoint)
        {
            return;
        }

        var shape = Shapes.GetOrAdd(endpoint, QueryShape.Of);
        foreach (var failure in context.ValidationFailures)
        {
            if (string.IsNullOrEmpty(failure.ErrorCode) && shape.ParseErrorCodes.TryGetValue(failure.PropertyName, out var code))
            {
                failure.ErrorCode = code;
            }
        }

        if (shape.Known is null)
        {
            return;
        }

        var refused = new List<ValidationFailure>();
        foreach (var (name, values) in http.Request.Query)
        {
            if (!shape.Known.Contains(name, StringComparer.Ordinal))
            {
                refused.Add(new ValidationFailure(name, shape.Known.Count == 0
                    ? $"'{name}' is not a known parameter: this route takes none."
                    : $"'{name}' is not a known parameter. Known: {string.Join(", ", shape.Known)}.") { ErrorCode = "unknown_parameter" });
            }
            else if (values.Count > 1 && !shape.Repeatable.Contains(name))
            {
                refused.Add(new ValidationFailure(name, $"{name} may be given once.") { ErrorCode = "duplicate_parameter" });
            }
        }

        if (refused.Count == 0)
        {
            return;
        }

        // Written here rather than by FastEndpoints, which would camel-case a parameter's name (Limit is not
        // limit) and keep one error per name (limit given twice, and not a number either). Failures found
        // before (binding, validation) come first, named as FastEndpoints names them.
        var errors = context.ValidationFailures
            .Select(f => new QueryParameterError(JsonNamingPolicy.CamelCase.ConvertName(f.PropertyName), f.ErrorMessage, f.ErrorCode))
            .Concat(refused.Select(f => new QueryParameterError(f.PropertyName, f.ErrorMessage, f.ErrorCode)))
            .ToList();
        context.ValidationFailures.AddRange(refused);

        // FastEndpoints skips the handler, and its own error response, only for a response it knows has started.
        http.MarkResponseStart();
        await http.WriteProblemAsync(StatusCodes.Status400BadRequest, ProblemDetailsDefaults.Summary([.. errors.Select(e => e.Reason)]), errors);
    }

    /// <summary>One refused parameter, in the shape of FastEndpoints' validation errors.</summary>
    private sealed record QueryParameterError(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("reason")] string Reason,
        [property: JsonPropertyName("code")] string? Code);

    /// <summary>
    /// A route's query parameters, from its request model. Every route of both services has one; a route
    /// without (an <c>EndpointWithoutRequest</c> or FastEndpoints' <c>EmptyRequest</c>) takes no parameters.
    /// </summary>
    private sealed record QueryShape(IReadOnlyList<string>? Known, IReadOnlySet<string> Repeatable, IReadOnlyDictionary<string, string> ParseErrorCodes)
    {
        public static QueryShape Of(Endpoint endpoint)
        {
            var definition = endpoint.Metadata.GetMetadata<EndpointDefinition>();
            var type = definition?.ReqDtoType;
            if (definition is null || type is null || type == typeof(EmptyRequest))
            {
                return new([], new HashSet<string>(), new Dictionary<string, string>());
            }

            var routeValues = (endpoint as RouteEndpoint)?.RoutePattern.Parameters.Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase) ?? [];
            var bodyless = definition.Verbs?.All(v => HttpMethods.IsGet(v) || HttpMethods.IsHead(v) || HttpMethods.IsDelete(v)) ?? false;
            var known = new List<string>();
            var repeatable = new HashSet<string>(StringComparer.Ordinal);
            var codes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
            {
                var code = property.GetCustomAttribute<ParseErrorCodeAttribute>()?.Code ?? "parameter_invalid";
                if (property.GetCustomAttribute<FromHeaderAttribute>() is { } header)
                {
                    codes[header.HeaderName ?? property.Name] = code;
                    continue;
                }

                if (property.GetCustomAttributes().Any(a => a is FromClaimAttribute or FromCookieAttribute or HasPermissionAttribute or FromBodyAttribute or FromFormAttribute))
                {
                    continue;
                }

                var name = property.GetCustomAttribute<BindFromAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);
                if (routeValues.Contains(name))
                {
                    codes[name] = code;
                    continue;
                }

                var sources = property.GetCustomAttribute<DontBindAttribute>();
                var fromQuery = sources is QueryParamAttribute || (bodyless && (sources is null || !sources.BindingSources.HasFlag(Source.QueryParam)));
                if (fromQuery)
                {
                    known.Add(name);
                    codes[name] = code;
                    if (property.PropertyType != typeof(string) && property.PropertyType.IsAssignableTo(typeof(System.Collections.IEnumerable)))
                    {
                        repeatable.Add(name);
                    }
                }
            }

            return new(known, repeatable, codes);
        }
    }
}
