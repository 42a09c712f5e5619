using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Microsoft.Extensions.Hosting;

/// <summary>Marks a route that takes no query parameters: any it is given is a 400 <c>unknown_parameter</c>.</summary>
public sealed class NoQueryParametersMetadata;

/// <summary>
/// Query-string rules every route shares, checked before an endpoint binds: a NUL character in a parameter is a
/// 400 (.NET's number parsing reads <c>limit=1%00</c> as 1, so it would otherwise pass unnoticed), and a route
/// marked with <see cref="NoQueryParametersMetadata"/> refuses parameters, as the routes with parameters refuse
/// unknown ones.
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

            var takesNone = context.GetEndpoint()?.Metadata.GetMetadata<NoQueryParametersMetadata>() is not null;
            var errors = new List<QueryParameterError>();
            foreach (var (name, values) in query)
            {
                if (name.Contains('\0', StringComparison.Ordinal) || values.Any(v => v?.Contains('\0', StringComparison.Ordinal) == true))
                {
                    errors.Add(new(name, $"'{name}' must not contain a NUL character.", "parameter_invalid"));
                }
                else if (takesNone)
                {
                    errors.Add(new(name, $"'{name}' is not a known parameter: this route takes none.", "unknown_parameter"));
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
