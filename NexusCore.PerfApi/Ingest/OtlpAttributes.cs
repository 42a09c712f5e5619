using System.Globalization;
using System.Text;
using Google.Protobuf.Collections;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Resource.V1;

namespace NexusCore.PerfApi.Ingest;

/// <summary>Reads OTLP attribute values the way semantic conventions use them.</summary>
internal static class OtlpAttributes
{
    /// <summary>What the specification says a resource without <c>service.name</c> is called.</summary>
    public const string UnknownService = "unknown_service";

    public static (string Service, string Instance) ServiceOf(Resource? resource)
    {
        string? service = null, instance = null;
        if (resource is not null)
        {
            foreach (var attribute in resource.Attributes)
            {
                switch (attribute.Key)
                {
                    case "service.name":
                        service = Text(attribute.Value);
                        break;
                    case "service.instance.id":
                        instance = Text(attribute.Value);
                        break;
                }
            }
        }

        return (string.IsNullOrEmpty(service) ? UnknownService : service, instance ?? "");
    }

    public static string? Text(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? "true" : "false",
        AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue.ToString("R", CultureInfo.InvariantCulture),
        AnyValue.ValueOneofCase.ArrayValue => "[" + string.Join(",", value.ArrayValue.Values.Select(Text)) + "]",
        AnyValue.ValueOneofCase.KvlistValue => "{" + string.Join(",", value.KvlistValue.Values.Select(kv => kv.Key + "=" + Text(kv.Value))) + "}",
        AnyValue.ValueOneofCase.BytesValue => Convert.ToHexStringLower(value.BytesValue.Span),
        _ => null,
    };

    public static bool? Bool(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue,
        AnyValue.ValueOneofCase.StringValue => bool.TryParse(value.StringValue, out var parsed) ? parsed : null,
        AnyValue.ValueOneofCase.IntValue => value.IntValue != 0,
        _ => null,
    };

    public static long? Int(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.IntValue => value.IntValue,
        AnyValue.ValueOneofCase.DoubleValue when double.IsFinite(value.DoubleValue) => (long)value.DoubleValue,
        AnyValue.ValueOneofCase.StringValue => long.TryParse(value.StringValue, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : null,
        _ => null,
    };

    /// <summary>Attributes as sorted text pairs, the identity of a metric series.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Sorted(RepeatedField<KeyValue> attributes)
    {
        if (attributes.Count == 0)
        {
            return [];
        }

        var pairs = new KeyValuePair<string, string>[attributes.Count];
        for (var i = 0; i < pairs.Length; i++)
        {
            pairs[i] = new(attributes[i].Key, Text(attributes[i].Value) ?? "");
        }

        Array.Sort(pairs, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return pairs;
    }
}
