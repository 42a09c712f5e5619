using System.Globalization;
using System.Text.Json.Nodes;
using NJsonSchema;
using NSwag;

namespace NexusCore.AppHost.Tests.Contract;

/// <summary>
/// Requests made from the documents alone, as a schema-driven fuzzer makes them: for every documented operation a
/// valid request (each parameter and body field a value its schema allows) and requests invalid in exactly one
/// parameter or field (a wrong type, a value outside its enum or bounds, a required one left out, an unknown one
/// added). Every answer must be documented for its operation and conform to it, none may be a 5xx; a valid request
/// is never refused (400, 413, 415, 422); an invalid one is never accepted (2xx).
/// </summary>
[Collection(StackCollection.Name)]
public sealed class DocumentPropertyTests(StackFixture stack)
{
    /// <summary>Operations whose valid request costs or changes too much to fire at random (each has its own tests).</summary>
    private static readonly string[] NotFiredWhenValid =
    [
        "POST /api/v1/performance/benchmark",
        "POST /api/v1/performance/indexes/{id}/apply",
        "POST /v1/traces",
        "POST /v1/metrics",
    ];

    private static readonly int[] Refusals = [400, 413, 415, 422];

    [Theory]
    [InlineData("clients-api")]
    [InlineData("perf-api")]
    public async Task RequestsMadeFromTheDocumentGetDocumentedAnswersValidOnesAreServedInvalidOnesRefused(string service)
    {
        var probe = await ContractProbe.ForAsync(stack, service);
        var failures = new List<string>();
        var fired = 0;
        foreach (var (template, method, operation) in probe.Contract.Operations.OrderBy(o => o.Template).ThenBy(o => o.Method))
        {
            var name = $"{method.ToUpperInvariant()} {template}";
            var key = operation.ExtensionData?.TryGetValue("x-required-role", out var role) == true ? role?.ToString()?.Split(',')[0] : null;
            var valid = await ValidRequestAsync(probe, template, operation);

            if (!NotFiredWhenValid.Contains(name))
            {
                var (status, body, _) = await probe.SendAsync(key, new HttpMethod(method.ToUpperInvariant()), valid.PathAndQuery(), valid.Body?.ToJsonString(), valid.Headers);
                fired++;
                if (status >= 500 || Refusals.Contains(status))
                {
                    failures.Add($"{name}: a valid request ({valid.PathAndQuery()} {valid.Body?.ToJsonString()}) got {status}: {Shorten(body)}");
                }
            }

            // On a route acting on one client, each invalid request gets a client of its own: one the valid
            // request deleted would answer 404 whatever the request's fault, hiding an invalid request accepted.
            var ownsClient = template.StartsWith("/api/v1/clients/{id}", StringComparison.Ordinal);
            var variants = InvalidVariants(operation, valid).ToList();
            for (var i = 0; i < variants.Count; i++)
            {
                var (what, invalid) = ownsClient ? InvalidVariants(operation, await ValidRequestAsync(probe, template, operation)).ElementAt(i) : variants[i];
                var (status, body, _) = await probe.SendAsync(key, new HttpMethod(method.ToUpperInvariant()), invalid.PathAndQuery(), invalid.Body?.ToJsonString(), invalid.Headers);
                fired++;
                if (status >= 500 || status is >= 200 and < 300)
                {
                    failures.Add($"{name}: {what} ({invalid.PathAndQuery()} {invalid.Body?.ToJsonString()}) got {status}: {Shorten(body)}");
                }
            }
        }

        Assert.True(fired > 20, $"Only {fired} requests were made from {service}'s document.");
        Assert.True(failures.Count == 0 && probe.Violations.Count == 0,
            $"{fired} requests; {failures.Count} wrong outcomes, {probe.Violations.Count} answers the document does not describe:{Environment.NewLine}"
            + string.Join(Environment.NewLine, failures.Concat(probe.Violations)));
    }

    private static string Shorten(string body) => body.Length > 300 ? body[..300] + "…" : body;

    /// <summary>A request: its path (parameters filled), query, headers and JSON body.</summary>
    private sealed record Request(string Path, List<(string Name, string Value)> Query, Dictionary<string, string> Headers, JsonNode? Body)
    {
        public string PathAndQuery() => Query.Count == 0
            ? Path
            : Path + "?" + string.Join('&', Query.Select(q => Uri.EscapeDataString(q.Name) + "=" + Uri.EscapeDataString(q.Value)));

        public Request Copy() => this with { Query = [.. Query], Headers = new(Headers), Body = Body?.DeepClone() };
    }

    /// <summary>
    /// A valid request for <paramref name="operation"/>: every required parameter, and every optional one that has a
    /// default, an enum or bounds (so that each can be broken alone), with a value its schema allows; the body from
    /// its schema. A client id in a path is a client made for it, so that the route finds something to act on.
    /// </summary>
    private async Task<Request> ValidRequestAsync(ContractProbe probe, string template, OpenApiOperation operation)
    {
        var path = template;
        var query = new List<(string, string)>();
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var parameter in operation.ActualParameters)
        {
            var schema = parameter.ActualSchema;
            switch (parameter.Kind)
            {
                case OpenApiParameterKind.Path:
                    var value = parameter.Name == "id" && template.StartsWith("/api/v1/clients", StringComparison.Ordinal)
                        ? (await NewClientIdAsync(probe)).ToString(CultureInfo.InvariantCulture)
                        : Text(Sample(schema, parameter.Name));
                    path = path.Replace("{" + parameter.Name + "}", Uri.EscapeDataString(value), StringComparison.Ordinal);
                    break;
                case OpenApiParameterKind.Query when parameter.IsRequired || HasConstraint(schema):
                    query.Add((parameter.Name, Text(Sample(schema, parameter.Name))));
                    break;
                case OpenApiParameterKind.Header when parameter.IsRequired:
                    headers[parameter.Name] = Text(Sample(schema, parameter.Name));
                    break;
            }
        }

        var body = operation.ActualRequestBody?.Content.TryGetValue("application/json", out var media) == true && media.Schema is not null
            ? Sample(media.Schema.ActualSchema, "body")
            : null;
        return new Request(path, query, headers, body);
    }

    /// <summary>Requests invalid in one thing each, named.</summary>
    private static IEnumerable<(string What, Request Request)> InvalidVariants(OpenApiOperation operation, Request valid)
    {
        var unknown = valid.Copy();
        unknown.Query.Add(("zz_unknown", "1"));
        yield return ("an unknown query parameter", unknown);

        foreach (var parameter in operation.ActualParameters.Where(p => p.Kind == OpenApiParameterKind.Query))
        {
            foreach (var (what, value) in BadValues(parameter.ActualSchema))
            {
                var request = valid.Copy();
                request.Query.RemoveAll(q => q.Name == parameter.Name);
                request.Query.Add((parameter.Name, value));
                yield return ($"query '{parameter.Name}' {what}", request);
            }
        }

        if (valid.Body is JsonObject body && operation.ActualRequestBody?.Content.TryGetValue("application/json", out var media) == true)
        {
            var schema = media.Schema.ActualSchema;
            foreach (var required in schema.RequiredProperties)
            {
                var request = valid.Copy();
                ((JsonObject)request.Body!).Remove(required);
                yield return ($"body without required '{required}'", request);
            }

            foreach (var (name, property) in schema.ActualProperties)
            {
                foreach (var (what, value) in BadJsonValues(property.ActualTypeSchema))
                {
                    var request = valid.Copy();
                    ((JsonObject)request.Body!)[name] = value;
                    yield return ($"body '{name}' {what}", request);
                }
            }

            var extra = valid.Copy();
            ((JsonObject)extra.Body!)["zzUnknown"] = 1;
            yield return ("a body with an unknown field", extra);
        }
    }

    private static bool HasConstraint(JsonSchema schema) =>
        schema.Default is not null || schema.Enumeration.Count > 0 || schema.Minimum is not null || schema.Maximum is not null
        || schema.MinLength is not null || schema.MaxLength is not null || schema.Pattern is not null || schema.Format is not null;

    /// <summary>Values a query parameter's schema refuses, as text.</summary>
    private static IEnumerable<(string What, string Value)> BadValues(JsonSchema schema)
    {
        var item = schema.Type.HasFlag(JsonObjectType.Array) ? schema.Item?.ActualSchema ?? schema : schema;
        if (item.Type.HasFlag(JsonObjectType.Integer) || item.Type.HasFlag(JsonObjectType.Number))
        {
            yield return ("not a number", "abc");
            if (item.Maximum is { } max)
            {
                yield return ("over its maximum", (max + 1).ToString(CultureInfo.InvariantCulture));
            }

            if (item.Minimum is { } min)
            {
                yield return ("under its minimum", (min - 1).ToString(CultureInfo.InvariantCulture));
            }
        }
        else if (item.Enumeration.Count > 0)
        {
            yield return ("outside its enum", "zz-not-a-value");
        }
        else if (item.Format is JsonFormatStrings.Date or JsonFormatStrings.DateTime)
        {
            yield return ("not a date", "2020-13-45");
        }
        else if (item.MaxLength is { } maxLength)
        {
            yield return ("over its maximum length", new string('a', maxLength + 1));
        }
    }

    /// <summary>JSON values a body field's schema refuses.</summary>
    private static IEnumerable<(string What, JsonNode? Value)> BadJsonValues(JsonSchema schema)
    {
        if (schema.Type.HasFlag(JsonObjectType.String))
        {
            yield return ("of the wrong type (an object)", new JsonObject());
            if (schema.Enumeration.Count > 0)
            {
                yield return ("outside its enum", "zz-not-a-value");
            }

            if (schema.MaxLength is { } maxLength)
            {
                yield return ("over its maximum length", new string('a', maxLength + 1));
            }
        }
        else if (schema.Type.HasFlag(JsonObjectType.Integer) || schema.Type.HasFlag(JsonObjectType.Number))
        {
            yield return ("of the wrong type (a string)", "abc");
        }
        else if (schema.Type.HasFlag(JsonObjectType.Array))
        {
            yield return ("of the wrong type (a string)", "abc");
            if (schema.MaxItems > 0 && schema.Item?.ActualSchema is { } item)
            {
                var tooMany = new JsonArray();
                for (var i = 0; i <= schema.MaxItems; i++)
                {
                    tooMany.Add(Sample(item, "item", i));
                }

                yield return ($"with more than {schema.MaxItems} items", tooMany);
            }
        }
    }

    /// <summary>A value <paramref name="schema"/> allows: its default, its first enum value, within its bounds, of its format.</summary>
    private static JsonNode? Sample(JsonSchema schema, string name, int index = 0)
    {
        schema = schema.ActualTypeSchema;
        if (schema.Default is { } @default && !schema.Type.HasFlag(JsonObjectType.Object))
        {
            return JsonNode.Parse(Newtonsoft.Json.JsonConvert.SerializeObject(@default));
        }

        if (schema.Enumeration.Count > 0)
        {
            return JsonNode.Parse(Newtonsoft.Json.JsonConvert.SerializeObject(schema.Enumeration.First()));
        }

        if (schema.Type.HasFlag(JsonObjectType.Object) || schema.ActualProperties.Count > 0)
        {
            var node = new JsonObject();
            // A schema with alternatives (a batch item per operation) is sampled as its first one: that one's
            // required fields, and its own values where it narrows a property (op: create).
            var variant = schema.AnyOf.FirstOrDefault()?.ActualSchema;
            var required = schema.RequiredProperties.Concat(variant?.RequiredProperties ?? []).ToHashSet();
            foreach (var (property, propertySchema) in schema.ActualProperties.Where(p => required.Contains(p.Key) || IsUseful(p.Value.ActualTypeSchema)))
            {
                node[property] = variant is not null && variant.Properties.TryGetValue(property, out var narrowed)
                    ? Sample(narrowed.ActualTypeSchema, property, index)
                    : Sample(propertySchema.ActualTypeSchema, property, index);
            }

            foreach (var (property, propertySchema) in schema.ActualProperties.Where(p => !node.ContainsKey(p.Key)).Take(Math.Max(0, schema.MinProperties - node.Count)))
            {
                node[property] = Sample(propertySchema.ActualTypeSchema, property, index);
            }

            return node;
        }

        if (schema.Type.HasFlag(JsonObjectType.Array))
        {
            var array = new JsonArray();
            for (var i = 0; i < Math.Max(1, schema.MinItems); i++)
            {
                array.Add(Sample(schema.Item?.ActualSchema ?? new JsonSchema { Type = JsonObjectType.String }, name, i));
            }

            return array;
        }

        if (schema.Type.HasFlag(JsonObjectType.Integer) || schema.Type.HasFlag(JsonObjectType.Number))
        {
            var low = schema.Minimum ?? 1;
            var high = schema.Maximum ?? low + 10;
            var value = Math.Min(high, Math.Max(low, 1 + index));
            return schema.Type.HasFlag(JsonObjectType.Integer) ? JsonValue.Create((long)value) : JsonValue.Create((double)value);
        }

        if (schema.Type.HasFlag(JsonObjectType.Boolean))
        {
            return JsonValue.Create(false);
        }

        var text = schema.Format switch
        {
            JsonFormatStrings.Email => $"prop-{Guid.NewGuid():N}@example.test",
            JsonFormatStrings.Date => DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            JsonFormatStrings.DateTime => DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            JsonFormatStrings.Guid or "uuid" => Guid.NewGuid().ToString(),
            _ => name.Contains("email", StringComparison.OrdinalIgnoreCase) ? $"prop-{Guid.NewGuid():N}@example.test" : "Prop" + Guid.NewGuid().ToString("N")[..8],
        };
        if (schema.MaxLength is { } maxLength && text.Length > maxLength)
        {
            text = text[..maxLength];
        }

        return JsonValue.Create(text);
    }

    /// <summary>An optional body field worth sending in a valid request: one of an enum's values, which a request can break.</summary>
    private static bool IsUseful(JsonSchema schema) => schema.Enumeration.Count > 0;

    private static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonValue value when value.TryGetValue<string>(out var s) => s,
        JsonArray array => string.Join(',', array.Select(Text)),
        _ => node.ToJsonString(),
    };

    private static async Task<long> NewClientIdAsync(ContractProbe probe)
    {
        var email = $"prop-{Guid.NewGuid():N}@example.test";
        var (status, body, _) = await probe.SendAsync("writer", HttpMethod.Post, "/api/v1/clients", $$"""{"name":"Property","email":"{{email}}","programType":"PRIME"}""");
        Assert.True(status == 201, body);
        return System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt64();
    }
}
