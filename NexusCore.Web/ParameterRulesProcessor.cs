using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using FastEndpoints;
using NJsonSchema;
using NSwag;
using NSwag.Generation.AspNetCore;
using NSwag.Generation.Processors;
using NSwag.Generation.Processors.Contexts;

namespace NexusCore.Web;

/// <summary>
/// FastEndpoints documents a route or query parameter by its type alone. This adds what the request model's
/// property says of it, so the document states the bounds the validator checks: <c>[Range]</c> as
/// minimum and maximum, <c>[MaxLength]</c> as a string's maxLength or an array's maxItems, <c>[AllowedValues]</c>
/// as the enum of a value or of a list's items; and names headers as HTTP does.
/// </summary>
public sealed class ParameterRulesProcessor : IOperationProcessor
{
    public bool Process(OperationProcessorContext context)
    {
        var definition = (context as AspNetCoreOperationProcessorContext)?.ApiDescription.ActionDescriptor.EndpointMetadata
            .OfType<EndpointDefinition>().SingleOrDefault();
        if (definition?.ReqDtoType is not { } type)
        {
            return true;
        }

        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance);

        // A header is named as HTTP names it (If-Match), not camel-cased as a property would be (if-Match).
        foreach (var header in context.OperationDescription.Operation.Parameters.Where(p => p.Kind == OpenApiParameterKind.Header))
        {
            if (properties.Select(p => p.GetCustomAttribute<FromHeaderAttribute>()?.HeaderName)
                    .FirstOrDefault(name => string.Equals(name, header.Name, StringComparison.OrdinalIgnoreCase)) is { } name)
            {
                header.Name = name;
            }
        }

        foreach (var parameter in context.OperationDescription.Operation.Parameters
                     .Where(p => p.Kind is OpenApiParameterKind.Query or OpenApiParameterKind.Path))
        {
            var property = properties.FirstOrDefault(p =>
                string.Equals(p.GetCustomAttribute<BindFromAttribute>()?.Name ?? p.Name, parameter.Name, StringComparison.OrdinalIgnoreCase));
            if (property is null || parameter.Schema is not { } schema)
            {
                continue;
            }

            if (property.GetCustomAttribute<RangeAttribute>() is { } range)
            {
                var minimum = Convert.ToInt64(range.Minimum, CultureInfo.InvariantCulture);
                schema.Minimum = minimum;
                // long.MaxValue as a maximum is the type's own bound (int64), and a double cannot spell it exactly.
                if (Convert.ToDouble(range.Maximum, CultureInfo.InvariantCulture) < long.MaxValue)
                {
                    schema.Maximum = Convert.ToInt64(range.Maximum, CultureInfo.InvariantCulture);
                }

                // An example must satisfy the schema (FastEndpoints writes 0 for a required number).
                if (parameter.Example is not null)
                {
                    parameter.Example = minimum;
                }
            }

            var isArray = schema.Type.HasFlag(JsonObjectType.Array);
            if (property.GetCustomAttribute<MaxLengthAttribute>() is { } maxLength)
            {
                if (isArray)
                {
                    schema.MaxItems = maxLength.Length;
                }
                else
                {
                    schema.MaxLength = maxLength.Length;
                }
            }

            if (property.GetCustomAttribute<AllowedValuesAttribute>() is { } allowed)
            {
                var target = isArray && schema.Item is { } item ? item : schema;
                target.Enumeration.Clear();
                foreach (var value in allowed.Values)
                {
                    target.Enumeration.Add(value);
                }
            }
        }

        return true;
    }
}
