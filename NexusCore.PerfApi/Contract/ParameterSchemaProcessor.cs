using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using FastEndpoints;
using FastEndpoints.Swagger;
using FluentValidation;
using FluentValidation.Validators;
using Namotion.Reflection;
using Microsoft.AspNetCore.WebUtilities;
using NJsonSchema;
using NSwag;
using NSwag.Generation.AspNetCore;
using NSwag.Generation.Processors;
using NSwag.Generation.Processors.Contexts;

namespace NexusCore.PerfApi.Contract;

/// <summary>
/// Completes PerfApi's operations in the OpenAPI document from the same types that are checked:
/// <list type="bullet">
/// <item>each query parameter gets the bounds and allowed values of its request model's validator
/// (<c>InclusiveBetween</c>, <c>GreaterThan…</c>/<c>LessThan…</c> and <see cref="OneOfValidator{T}"/>), which
/// FastEndpoints.Swagger applies to body schemas only;</item>
/// <item>an OTLP route (<see cref="ProtobufBody"/>) gets its binary protobuf body, its <c>Content-Encoding</c>
/// header and its protobuf 200 answer;</item>
/// <item>a POST whose JSON body may be left out (<see cref="OptionalJsonBody"/>) gets it as an optional body, with
/// the array bounds and allowed item values of its validator.</item>
/// </list>
/// </summary>
internal sealed class ParameterSchemaProcessor(IServiceProvider services) : IOperationProcessor
{
    public const string ProtobufMediaType = "application/x-protobuf";

    private readonly ConcurrentDictionary<Type, IValidatorDescriptor> _descriptors = new();

    public bool Process(OperationProcessorContext context)
    {
        if (context.GetEndpointDefinition() is not { } definition)
        {
            return true;
        }

        var operation = context.OperationDescription.Operation;
        var metadata = ((AspNetCoreOperationProcessorContext)context).ApiDescription.ActionDescriptor.EndpointMetadata;
        DescribeQueryParameters(definition, operation);
        if (metadata.OfType<ProtobufBody>().LastOrDefault() is { } protobuf)
        {
            DescribeProtobuf(operation, protobuf);
        }

        if (metadata.OfType<OptionalJsonBody>().LastOrDefault() is { } optional)
        {
            var schema = context.SchemaGenerator.GenerateWithReferenceAndNullability<JsonSchema>(
                optional.Schema.ToContextualType(), isNullable: false, context.SchemaResolver);
            foreach (var routeParameter in operation.Parameters.Where(p => p.Kind == OpenApiParameterKind.Path))
            {
                var key = schema.ActualSchema.Properties.Keys.FirstOrDefault(k => string.Equals(k, routeParameter.Name, StringComparison.OrdinalIgnoreCase));
                if (key is not null)
                {
                    schema.ActualSchema.Properties.Remove(key);
                    schema.ActualSchema.RequiredProperties.Remove(key);
                }
            }

            operation.RequestBody = new OpenApiRequestBody
            {
                IsRequired = false,
                Description = "Optional: every field has a default, and no body at all runs with the defaults. A body of another media type is refused with 415.",
                Content = { ["application/json"] = new OpenApiMediaType { Schema = schema } },
            };
        }

        if (operation.RequestBody?.Content.TryGetValue("application/json", out var json) == true && json.Schema?.ActualSchema is { } bodySchema)
        {
            DescribeBody(definition, bodySchema);
        }

        foreach (var (status, response) in operation.Responses.Where(r => string.IsNullOrEmpty(r.Value.Description)))
        {
            response.Description = int.TryParse(status, out var code) ? ReasonPhrases.GetReasonPhrase(code) : status;
        }

        return true;
    }

    /// <summary>The rules of the validator FastEndpoints runs, built as it builds them (from the services, for its dependencies).</summary>
    private IValidatorDescriptor? Descriptor(EndpointDefinition definition) =>
        definition.ValidatorType is null ? null : _descriptors.GetOrAdd(definition.ValidatorType,
            type => ((IValidator)(services.GetService(type) ?? ActivatorUtilities.CreateInstance(services, type))).CreateDescriptor());

    /// <summary>Array bounds and allowed item values of a JSON body's properties, which FastEndpoints.Swagger does not map.</summary>
    private void DescribeBody(EndpointDefinition definition, JsonSchema schema)
    {
        if (Descriptor(definition) is not { } descriptor)
        {
            return;
        }

        foreach (var (name, property) in schema.ActualProperties)
        {
            foreach (var rule in descriptor.GetRulesForMember(name))
            {
                var isEach = rule.GetType().GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(ICollectionRule<,>));
                foreach (var validator in rule.Components.Select(c => c.Validator))
                {
                    switch (validator)
                    {
                        case IItemCount count:
                            property.MinItems = count.MinItems ?? property.MinItems;
                            property.MaxItems = count.MaxItems ?? property.MaxItems;
                            break;
                        case IOneOf oneOf when isEach && property.Item is { } item:
                            item.Enumeration.Clear();
                            foreach (var value in oneOf.Values)
                            {
                                item.Enumeration.Add(value);
                            }

                            break;
                    }
                }
            }
        }
    }

    private void DescribeQueryParameters(EndpointDefinition definition, OpenApiOperation operation)
    {
        if (Descriptor(definition) is not { } descriptor)
        {
            return;
        }
        var properties = definition.ReqDtoType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.IsDefined(typeof(QueryParamAttribute)))
            .ToDictionary(QueryParameterSet.Name, StringComparer.Ordinal);
        foreach (var parameter in operation.Parameters.Where(p => p.Kind == OpenApiParameterKind.Query))
        {
                if (!properties.TryGetValue(parameter.Name, out var property) || parameter.Schema is not { } schema)
            {
                continue;
            }

                // A rule's member name is the one FastEndpoints' property-name resolver gives (the JSON name), else the property's.
            var rules = descriptor.GetRulesForMember(parameter.Name).Concat(descriptor.GetRulesForMember(property.Name)).Distinct();
            foreach (var validator in rules.SelectMany(rule => rule.Components).Select(c => c.Validator))
            {
                Apply(validator, schema);
            }
        }
    }

    private static void Apply(IPropertyValidator validator, JsonSchema schema)
    {
        switch (validator)
        {
            case IOneOf oneOf:
                schema.Enumeration.Clear();
                foreach (var value in oneOf.Values)
                {
                    schema.Enumeration.Add(value);
                }

                break;
            case IBetweenValidator between:
                var exclusive = validator.Name == "ExclusiveBetweenValidator";
                schema.Minimum = ToDecimal(between.From);
                schema.Maximum = ToDecimal(between.To);
                schema.IsExclusiveMinimum = exclusive;
                schema.IsExclusiveMaximum = exclusive;
                break;
            case IComparisonValidator { ValueToCompare: { } value } comparison:
                switch (comparison.Comparison)
                {
                    case Comparison.GreaterThan or Comparison.GreaterThanOrEqual:
                        schema.Minimum = ToDecimal(value);
                        schema.IsExclusiveMinimum = comparison.Comparison == Comparison.GreaterThan;
                        break;
                    case Comparison.LessThan or Comparison.LessThanOrEqual:
                        schema.Maximum = ToDecimal(value);
                        schema.IsExclusiveMaximum = comparison.Comparison == Comparison.LessThan;
                        break;
                }

                break;
        }
    }

    private static decimal ToDecimal(object value) => Convert.ToDecimal(value, CultureInfo.InvariantCulture);

    private static void DescribeProtobuf(OpenApiOperation operation, ProtobufBody protobuf)
    {
        operation.RequestBody = new OpenApiRequestBody
        {
            IsRequired = true,
            Description = $"OTLP/HTTP: a binary protobuf `{protobuf.RequestMessage}` (OTLP/JSON is refused with 415). " +
                          $"Compressed with gzip when sent with `Content-Encoding: gzip`. {protobuf.Limits}",
            Content = { [ProtobufMediaType] = new OpenApiMediaType { Schema = Binary() } },
        };

        var encoding = new OpenApiParameter
        {
            Name = "Content-Encoding",
            Kind = OpenApiParameterKind.Header,
            IsRequired = false,
            Description = "`gzip`, or none (`identity`); any other encoding is refused with 415.",
            Schema = new JsonSchema { Type = JsonObjectType.String },
        };
        encoding.Schema.Enumeration.Add("gzip");
        encoding.Schema.Enumeration.Add("identity");
        operation.Parameters.Add(encoding);

        if (operation.Responses.TryGetValue("200", out var ok))
        {
            ok.Description = $"Accepted: a binary protobuf `{protobuf.ResponseMessage}`. Its `partial_success` says how many items " +
                             "were dropped and why (a full ingest queue, non-finite values); an empty message means all were taken.";
            ok.Content.Clear();
            ok.Content[ProtobufMediaType] = new OpenApiMediaType { Schema = Binary() };
        }
    }

    private static JsonSchema Binary() => new() { Type = JsonObjectType.String, Format = "binary" };
}

/// <summary>A validator that allows a fixed set of values, for the document's <c>enum</c>.</summary>
internal interface IOneOf
{
    IReadOnlyList<string> Values { get; }
}
