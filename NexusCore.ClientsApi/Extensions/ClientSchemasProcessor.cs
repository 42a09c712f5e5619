using NexusCore.ClientsApi.Features.Clients;
using NJsonSchema;
using NSwag;
using NSwag.Generation.Processors;
using NSwag.Generation.Processors.Contexts;

namespace NexusCore.ClientsApi.Extensions;

/// <summary>
/// What the write validators check that the generated body schemas cannot say by themselves: a create's
/// required fields, the allowed statuses and program types, a patch's "at least one field", a batch item's
/// fields per operation; and export's <c>Accept</c> header. Kept beside the rules it states
/// (<see cref="ClientRules"/>): the lists are read from them, not copied.
/// </summary>
internal sealed class ClientSchemasProcessor : IDocumentProcessor
{
    private const string Prefix = "NexusCoreClientsApiFeaturesClients";

    public void Process(DocumentProcessorContext context)
    {
        var schemas = context.Document.Components.Schemas;
        if (schemas.TryGetValue(Prefix + "CreateRequest", out var create))
        {
            Require(create, "name", "email", "programType");
            Enumerate(create);
        }

        if (schemas.TryGetValue(Prefix + "PatchRequest", out var patch))
        {
            patch.MinProperties = 1;
            Enumerate(patch);
        }

        if (schemas.TryGetValue(Prefix + "BatchItem", out var item))
        {
            Enumerate(item);
            Require(item, "op");
            item.AnyOf.Add(Variant("create", "name", "email", "programType"));
            item.AnyOf.Add(Variant("update", "id"));
            item.AnyOf.Add(Variant("delete", "id"));
        }

        foreach (var operation in context.Document.Operations.Where(o => o.Operation.OperationId == "exportClients"))
        {
            if (operation.Operation.Parameters.Any(p => p.Kind == OpenApiParameterKind.Header && p.Name == "Accept"))
            {
                continue;
            }

            var accept = new OpenApiParameter
            {
                Name = "Accept",
                Kind = OpenApiParameterKind.Header,
                Description = "text/csv (the default) or application/x-ndjson; any other type is a 406.",
                Schema = new JsonSchema { Type = JsonObjectType.String, Default = "text/csv" },
            };
            accept.Schema.Enumeration.Add("text/csv");
            accept.Schema.Enumeration.Add("application/x-ndjson");
            operation.Operation.Parameters.Add(accept);
        }
    }

    private static void Require(JsonSchema schema, params string[] names)
    {
        foreach (var name in names.Where(n => schema.Properties.ContainsKey(n) && !schema.RequiredProperties.Contains(n)))
        {
            schema.RequiredProperties.Add(name);
        }
    }

    /// <summary>Statuses and program types: the values the API reads and writes, exactly as listed.</summary>
    private static void Enumerate(JsonSchema schema)
    {
        Values(schema, "status", ClientRules.Statuses);
        Values(schema, "programType", ClientRules.ProgramTypes);
    }

    private static void Values(JsonSchema schema, string property, IReadOnlyList<string> values)
    {
        if (schema.Properties.TryGetValue(property, out var field) && field.Enumeration.Count == 0 && field.OneOf.Count == 0)
        {
            foreach (var value in values)
            {
                field.Enumeration.Add(value);
            }
        }
    }

    /// <summary>
    /// One operation of a batch item: its <c>op</c> and the fields it needs. The variants exclude one another by
    /// <c>op</c>, so <c>anyOf</c> means what <c>oneOf</c> would; NJsonSchema reads a <c>oneOf</c> as the type's
    /// own wrapper (its first member as the type), which <c>anyOf</c> is not.
    /// </summary>
    private static JsonSchema Variant(string op, params string[] required)
    {
        var variant = new JsonSchema { Description = $"op: {op}" };
        var opValue = new JsonSchemaProperty { Type = JsonObjectType.String };
        opValue.Enumeration.Add(op);
        variant.Properties["op"] = opValue;
        foreach (var name in required.Prepend("op"))
        {
            variant.RequiredProperties.Add(name);
        }

        return variant;
    }
}
