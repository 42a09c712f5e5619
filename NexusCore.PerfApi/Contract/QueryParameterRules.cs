using System.Globalization;
using System.Reflection;
using System.Text.Json;
using FastEndpoints;
using FluentValidation.Results;
using Microsoft.Extensions.Primitives;

namespace NexusCore.PerfApi.Contract;

/// <summary>
/// The query parameters a route takes: the properties of its request model marked <c>[QueryParam]</c>, by the
/// name they are bound from (<c>[BindFrom]</c>, else the camel-case property name). A route whose request is
/// <see cref="EmptyRequest"/> takes none.
/// </summary>
internal sealed class QueryParameterSet
{
    private readonly Dictionary<string, Type> _types;

    private QueryParameterSet(Dictionary<string, Type> types) => _types = types;

    public IReadOnlyCollection<string> Names => _types.Keys;

    public static QueryParameterSet Of(Type requestType) =>
        new(requestType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.IsDefined(typeof(QueryParamAttribute)))
            .ToDictionary(Name, p => p.PropertyType, StringComparer.Ordinal));

    /// <summary>The name a query parameter bound to <paramref name="property"/> has.</summary>
    public static string Name(PropertyInfo property) =>
        property.GetCustomAttribute<BindFromAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);

    /// <summary>Exactly (case included) a parameter's name: FastEndpoints binds case-insensitively, the contract does not.</summary>
    public bool Takes(string name) => _types.ContainsKey(name);

    /// <summary>Whether <paramref name="name"/> is a parameter whose values are not text (numbers, booleans), so an empty value is not one.</summary>
    public bool IsTyped(string name) => _types.TryGetValue(name, out var type) && type != typeof(string);
}

/// <summary>
/// The query-string contract of every PerfApi route, checked after binding and validation, so that each refused
/// parameter is a 400 problem entry with a code:
/// <list type="bullet">
/// <item>a parameter the route's request model does not take is <c>unknown_parameter</c>, one given twice
/// <c>duplicate_parameter</c> (and the binding error such a value caused is dropped);</item>
/// <item>a value that is not of the parameter's type (<c>limit=abc</c>, <c>refresh=yes</c>) is
/// <c>&lt;name&gt;_invalid</c>: FastEndpoints reports it without a code;</item>
/// <item>an empty value of a typed parameter (<c>threshold=</c>) is <c>&lt;name&gt;_invalid</c> too, where
/// FastEndpoints would bind it as absent.</item>
/// </list>
/// When binding or validation already failed, FastEndpoints sends the errors after the pre-processors (this adds
/// to them); otherwise this sends them.
/// </summary>
internal sealed class QueryParameterRules(QueryParameterSet parameters) : IGlobalPreProcessor
{
    /// <summary>Checks the query string of <paramref name="endpoint"/> against its request model, before its own pre-processors.</summary>
    public static void Apply(EndpointDefinition endpoint) =>
        endpoint.PreProcessors(Order.Before, new QueryParameterRules(QueryParameterSet.Of(endpoint.ReqDtoType)));

    public async Task PreProcessAsync(IPreProcessorContext context, CancellationToken ct)
    {
        var http = context.HttpContext;
        if (http.ResponseStarted())
        {
            return;
        }

        var failures = context.ValidationFailures;
        var answeredByFastEndpoints = failures.Count > 0;
        var query = http.Request.Query;

        CodeTypeErrors(query, failures);

        if (!answeredByFastEndpoints && failures.Count > 0)
        {
            await http.Response.SendErrorsAsync(failures, StatusCodes.Status400BadRequest, null, ct);
        }
    }

    private void CodeTypeErrors(IQueryCollection query, List<ValidationFailure> failures)
    {
        foreach (var failure in failures.Where(f => f.ErrorCode is null && parameters.Takes(f.PropertyName)))
        {
            failure.ErrorCode = $"{failure.PropertyName}_invalid";
        }

        foreach (var (name, values) in query)
        {
            if (values is [""] && parameters.IsTyped(name) && !failures.Exists(f => f.PropertyName == name))
            {
                failures.Add(new ValidationFailure(name, $"'{name}' needs a value; leave the parameter out for its default.") { ErrorCode = $"{name}_invalid" });
            }
        }
    }
}

/// <summary>
/// How PerfApi binds query values beyond the defaults every NexusCore API shares. (The query-string rules are applied
/// by the route groups, <see cref="QueryParameterRules.Apply"/>, not through <c>config.Endpoints.Configurator</c>:
/// FastEndpoints keeps one configurator, which a setting here would replace.)
/// </summary>
internal static class RequestContract
{
    public static void UsePerfApiRequestContract(this Config config)
    {
        // Numbers as JSON writes them (digits, an optional sign, decimal point and exponent: 0.5, 1e-3), one value.
        // .NET's parsing would also take spaces, thousands separators, and (for double) the culture's format.
        config.Binding.ValueParserFor<double>(StrictNumber);
        config.Binding.ValueParserFor<double?>(StrictNumber);
        config.Binding.ValueParserFor<int?>(StrictInteger);
    }

    private static ParseResult StrictNumber(StringValues input) =>
        input is [{ Length: > 0 } text]
        && double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var value)
            ? new ParseResult(true, value)
            : new ParseResult(false, null);

    private static ParseResult StrictInteger(StringValues input) =>
        input is [{ Length: > 0 } text]
        && !text.AsSpan(text.StartsWith('-') ? 1 : 0).ContainsAnyExceptInRange('0', '9')
        && int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? new ParseResult(true, value)
            : new ParseResult(false, null);
}
