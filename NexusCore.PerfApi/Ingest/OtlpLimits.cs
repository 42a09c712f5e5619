namespace NexusCore.PerfApi.Ingest;

internal enum OtlpSignal
{
    Traces,
    Metrics,
}

/// <summary>What the count of an OTLP body found: a refusal, or whether some string needs cutting.</summary>
internal readonly record struct OtlpShape(PayloadProblem? Problem, bool HasLongStrings);

/// <summary>
/// Counts what an OTLP body would become before the protobuf parser materializes it: spans or data points per
/// request, attributes per item, buckets per histogram point. Parsing allocates an object per span, attribute and
/// value (4 MB of empty spans is two million spans, about 350 MB), so the count walks the wire format itself,
/// allocating nothing, and stops at the first limit crossed. Only the fields PerfApi's messages declare are
/// entered (the parser skips the rest without keeping them). It also notes whether any string is longer than
/// <see cref="OtlpReceiverOptions.MaxAttributeLength"/>, so that <see cref="OtlpTruncation"/> runs only then.
/// A body the parser would refuse as malformed is refused as malformed here too (truncated fields, bad tags,
/// nesting deeper than the parser's limit of 100).
/// </summary>
internal ref struct OtlpLimits
{
    private const int RecursionLimit = 100;
    private const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, StartGroup = 3, EndGroup = 4, Fixed32 = 5;

    private readonly OtlpReceiverOptions _limits;
    private int _items;
    private bool _longStrings;
    private PayloadProblem? _problem;

    private OtlpLimits(OtlpReceiverOptions limits) => _limits = limits;

    public static OtlpShape Check(ReadOnlySpan<byte> body, OtlpSignal signal, OtlpReceiverOptions limits)
    {
        var scan = new OtlpLimits(limits);
        var ok = signal == OtlpSignal.Traces ? scan.TraceRequest(body) : scan.MetricRequest(body);
        return new OtlpShape(ok ? null : scan._problem ?? OtlpBody.Malformed(signal == OtlpSignal.Traces ? "traces" : "metrics"), scan._longStrings);
    }

    // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
    private bool TraceRequest(ReadOnlySpan<byte> body)
    {
        var reader = new WireReader(body);
        while (reader.Next(out var field, out var wire))
        {
            if (!(field == 1 && wire == LengthDelimited ? reader.Message(out var message) && ResourceSpans(message) : reader.Skip(wire, 1)))
            {
                return false;
            }
        }

        return reader.Ok;
    }

    // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
    private bool ResourceSpans(ReadOnlySpan<byte> body)
    {
        var reader = new WireReader(body);
        while (reader.Next(out var field, out var wire))
        {
            var ok = (field, wire) switch
            {
                (1, LengthDelimited) => reader.Message(out var resource) && Item(resource, attributesField: 1, depth: 2),
                (2, LengthDelimited) => reader.Message(out var scope) && ScopeSpans(scope),
                _ => reader.Skip(wire, 2),
            };
            if (!ok)
            {
                return false;
            }
        }

        return reader.Ok;
    }

    // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }; Span { attributes = 9; }
    private bool ScopeSpans(ReadOnlySpan<byte> body)
    {
        var reader = new WireReader(body);
        while (reader.Next(out var field, out var wire))
        {
            var ok = (field, wire) switch
            {
                (1, LengthDelimited) => reader.Message(out var scope) && Item(scope, attributesField: 3, depth: 3),
                (2, LengthDelimited) => reader.Message(out var span) && Count(ref _items, _limits.MaxSpansPerRequest, TooManySpans) && Item(span, attributesField: 9, depth: 3),
                _ => reader.Skip(wire, 3),
            };
            if (!ok)
            {
                return false;
            }
        }

        return reader.Ok;
    }

    // ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
    private bool MetricRequest(ReadOnlySpan<byte> body)
    {
        var reader = new WireReader(body);
        while (reader.Next(out var field, out var wire))
        {
            if (!(field == 1 && wire == LengthDelimited ? reader.Message(out var message) && ResourceMetrics(message) : reader.Skip(wire, 1)))
            {
                return false;
            }
        }

        return reader.Ok;
    }

    // ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
    private bool ResourceMetrics(ReadOnlySpan<byte> body)
    {
        var reader = new WireReader(body);
        while (reader.Next(out var field, out var wire))
        {
            var ok = (field, wire) switch
            {
                (1, LengthDelimited) => reader.Message(out var resource) && Item(resource, attributesField: 1, depth: 2),
                (2, LengthDelimited) => reader.Message(out var scope) && ScopeMetrics(scope),
                _ => reader.Skip(wire, 2),
            };
            if (!ok)
            {
                return false;
            }
        }

        return reader.Ok;
    }

    // ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; }
    private bool ScopeMetrics(ReadOnlySpan<byte> body)
    {
        var reader = new WireReader(body);
        while (reader.Next(out var field, out var wire))
        {
            var ok = (field, wire) switch
            {
                (1, LengthDelimited) => reader.Message(out var scope) && Item(scope, attributesField: 3, depth: 3),
                (2, LengthDelimited) => reader.Message(out var metric) && Metric(metric),
                _ => reader.Skip(wire, 3),
            };
            if (!ok)
            {
                return false;
            }
        }

        return reader.Ok;
    }

    // Metric { name = 1; unit = 3; Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9;
    //          ExponentialHistogram exponential_histogram = 10; repeated KeyValue metadata = 12; }
    private bool Metric(ReadOnlySpan<byte> body)
    {
        var reader = new WireReader(body);
        var attributes = 0;
        while (reader.Next(out var field, out var wire))
        {
            var ok = (field, wire) switch
            {
                (1 or 3, LengthDelimited) => reader.Message(out var text) && Text(text.Length, _limits.MaxAttributeLength),
                (5 or 7, LengthDelimited) => reader.Message(out var numbers) && Points(numbers, PointKind.Number),
                (9, LengthDelimited) => reader.Message(out var histogram) && Points(histogram, PointKind.Histogram),
                (10, LengthDelimited) => reader.Message(out var exponential) && Points(exponential, PointKind.Exponential),
                (12, LengthDelimited) => reader.Message(out var metadata) && Attribute(metadata, ref attributes, 4),
                _ => reader.Skip(wire, 4),
            };
            if (!ok)
            {
                return false;
            }
        }

        return reader.Ok;
    }

    private enum PointKind
    {
        Number,
        Histogram,
        Exponential,
    }

    // Gauge, Sum, Histogram, ExponentialHistogram { repeated <point> data_points = 1; }
    private bool Points(ReadOnlySpan<byte> body, PointKind kind)
    {
        var reader = new WireReader(body);
        while (reader.Next(out var field, out var wire))
        {
            var ok = field == 1 && wire == LengthDelimited
                ? reader.Message(out var point) && Count(ref _items, _limits.MaxDataPointsPerRequest, TooManyDataPoints) && Point(point, kind)
                : reader.Skip(wire, 5);
            if (!ok)
            {
                return false;
            }
        }

        return reader.Ok;
    }

    // NumberDataPoint { attributes = 7; }
    // HistogramDataPoint { attributes = 9; fixed64 bucket_counts = 6; double explicit_bounds = 7; }
    // ExponentialHistogramDataPoint { attributes = 1; Buckets positive = 8; Buckets negative = 9; }
    private bool Point(ReadOnlySpan<byte> body, PointKind kind)
    {
        var reader = new WireReader(body);
        int attributes = 0, counts = 0, bounds = 0;
        var attributesField = kind switch { PointKind.Number => 7, PointKind.Histogram => 9, _ => 1 };
        while (reader.Next(out var field, out var wire))
        {
            bool ok;
            if (field == attributesField && wire == LengthDelimited)
            {
                ok = reader.Message(out var attribute) && Attribute(attribute, ref attributes, 6);
            }
            else if (kind == PointKind.Histogram && field is 6 or 7 && wire is LengthDelimited or Fixed64)
            {
                // Packed (the norm) or one value per field; either way eight bytes a value.
                var added = 1;
                if (wire == Fixed64)
                {
                    ok = reader.Skip(wire, 6);
                }
                else
                {
                    ok = reader.Message(out var packed);
                    added = packed.Length / 8;
                }

                ok = ok && (field == 6 ? Buckets(ref counts, added, extra: 0) : Buckets(ref bounds, added, extra: 1));
            }
            else if (kind == PointKind.Exponential && field is 8 or 9 && wire == LengthDelimited)
            {
                ok = reader.Message(out var buckets) && ExponentialBuckets(buckets);
            }
            else
            {
                ok = reader.Skip(wire, 6);
            }

            if (!ok)
            {
                return false;
            }
        }

        return reader.Ok;
    }

    // Buckets { sint32 offset = 1; repeated uint64 bucket_counts = 2; }
    private bool ExponentialBuckets(ReadOnlySpan<byte> body)
    {
        var reader = new WireReader(body);
        var counts = 0;
        while (reader.Next(out var field, out var wire))
        {
            bool ok;
            if (field == 2 && wire == LengthDelimited)
            {
                ok = reader.Message(out var packed) && Buckets(ref counts, Varints(packed), extra: 0);
            }
            else if (field == 2 && wire == Varint)
            {
                ok = reader.Skip(wire, 7) && Buckets(ref counts, 1, extra: 0);
            }
            else
            {
                ok = reader.Skip(wire, 7);
            }

            if (!ok)
            {
                return false;
            }
        }

        return reader.Ok;
    }

    /// <summary>A resource, scope or span: its attributes field counted, everything else skipped.</summary>
    private bool Item(ReadOnlySpan<byte> body, int attributesField, int depth)
    {
        var reader = new WireReader(body);
        var attributes = 0;
        while (reader.Next(out var field, out var wire))
        {
            var ok = field == attributesField && wire == LengthDelimited
                ? reader.Message(out var attribute) && Attribute(attribute, ref attributes, depth + 1)
                : reader.Skip(wire, depth + 1);
            if (!ok)
            {
                return false;
            }
        }

        return reader.Ok;
    }

    // KeyValue { string key = 1; AnyValue value = 2; }
    private bool Attribute(ReadOnlySpan<byte> body, ref int attributes, int depth)
    {
        if (!Count(ref attributes, _limits.MaxAttributesPerItem, TooManyAttributes) || depth > RecursionLimit)
        {
            return false;
        }

        if (PlainAttribute(body) is var (keyLength, textLength) && keyLength >= 0)
        {
            return Text(keyLength, _limits.MaxAttributeLength) && Text(textLength, _limits.MaxAttributeLength);
        }

        var reader = new WireReader(body);
        while (reader.Next(out var field, out var wire))
        {
            var ok = (field, wire) switch
            {
                (1, LengthDelimited) => reader.Message(out var key) && Text(key.Length, _limits.MaxAttributeLength),
                (2, LengthDelimited) => reader.Message(out var value) && Value(value, ref attributes, depth + 1),
                _ => reader.Skip(wire, depth + 1),
            };
            if (!ok)
            {
                return false;
            }
        }

        return reader.Ok;
    }

    // AnyValue { string string_value = 1; ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; }
    // ArrayValue { repeated AnyValue values = 1; }  KeyValueList { repeated KeyValue values = 1; }
    private bool Value(ReadOnlySpan<byte> body, ref int attributes, int depth)
    {
        if (depth > RecursionLimit)
        {
            return false;
        }

        var reader = new WireReader(body);
        while (reader.Next(out var field, out var wire))
        {
            bool ok;
            if (wire != LengthDelimited)
            {
                ok = reader.Skip(wire, depth + 1);
            }
            else if (!reader.Message(out var inner))
            {
                return false;
            }
            else
            {
                ok = field switch
                {
                    // A string may be cut as is; bytes read as hex (two characters a byte); arrays and maps read as
                    // their joined text, at most about four characters per encoded byte.
                    1 => Text(inner.Length, _limits.MaxAttributeLength),
                    7 => Text(inner.Length * 2L, _limits.MaxAttributeLength),
                    5 => Text(inner.Length * 4L, _limits.MaxAttributeLength) && Nested(inner, ref attributes, depth + 1, map: false),
                    6 => Text(inner.Length * 4L, _limits.MaxAttributeLength) && Nested(inner, ref attributes, depth + 1, map: true),
                    _ => true,
                };
            }

            if (!ok)
            {
                return false;
            }
        }

        return reader.Ok;
    }

    private bool Nested(ReadOnlySpan<byte> body, ref int attributes, int depth, bool map)
    {
        if (depth > RecursionLimit)
        {
            return false;
        }

        var reader = new WireReader(body);
        while (reader.Next(out var field, out var wire))
        {
            bool ok;
            if (field == 1 && wire == LengthDelimited)
            {
                ok = reader.Message(out var inner)
                    && (map ? Attribute(inner, ref attributes, depth + 1)
                        : Count(ref attributes, _limits.MaxAttributesPerItem, TooManyAttributes) && Value(inner, ref attributes, depth + 1));
            }
            else
            {
                ok = reader.Skip(wire, depth + 1);
            }

            if (!ok)
            {
                return false;
            }
        }

        return reader.Ok;
    }

    /// <summary>
    /// The shape of nearly every attribute, read without the general walk: a key, then a value holding one string,
    /// bytes (as hex: two characters a byte) or scalar. Returns the key's length and the value's text length in
    /// bytes, or a key length of -1 for anything else (arrays, maps, repeated or unusual fields), which the general
    /// walk then reads.
    /// </summary>
    private static (int KeyLength, long TextLength) PlainAttribute(ReadOnlySpan<byte> body)
    {
        const int Other = -1;
        var position = 0;
        if (body.Length == 0 || body[0] != 0x0A || !Length(body, ref position, out var keyLength))
        {
            return (Other, 0);
        }

        position += keyLength;
        if (position == body.Length)
        {
            return (keyLength, 0);
        }

        if (body[position] != 0x12 || !Length(body, ref position, out var valueLength) || position + valueLength != body.Length)
        {
            return (Other, 0);
        }

        var value = body[position..];
        if (value.Length == 0)
        {
            return (keyLength, 0);
        }

        var inner = 0;
        switch (value[0])
        {
            case 0x0A or 0x3A when Length(value, ref inner, out var textLength) && inner + textLength == value.Length:
                return (keyLength, value[0] == 0x3A ? textLength * 2L : textLength);
            case 0x10 or 0x18 when value.Length is >= 2 and <= 11 && value[^1] < 0x80 && value[1..^1].IndexOfAnyInRange((byte)0, (byte)0x7F) < 0:
                return (keyLength, 0);
            case 0x21 when value.Length == 9:
                return (keyLength, 0);
            default:
                return (Other, 0);
        }
    }

    /// <summary>Reads the tag byte at <paramref name="position"/> and the length after it; leaves the position at the content.</summary>
    private static bool Length(ReadOnlySpan<byte> data, ref int position, out int length)
    {
        length = 0;
        position++;
        for (var shift = 0; shift < 32 && position < data.Length; shift += 7)
        {
            var b = data[position++];
            length |= (b & 0x7F) << shift;
            if (b < 0x80)
            {
                return length >= 0 && length <= data.Length - position;
            }
        }

        return false;
    }

    /// <summary>Notes a string too long to keep whole; never refuses (the string is cut later).</summary>
    private bool Text(long length, int limit)
    {
        // A UTF-8 string has at most as many characters as bytes: no longer in bytes is no longer in characters.
        _longStrings |= length > limit;
        return true;
    }

    private bool Count(ref int count, int limit, Func<int, PayloadProblem> problem)
    {
        if (++count <= limit)
        {
            return true;
        }

        _problem = problem(limit);
        return false;
    }

    private bool Buckets(ref int count, int added, int extra)
    {
        count += added;
        if (count + extra <= _limits.MaxBucketsPerPoint)
        {
            return true;
        }

        _problem = TooManyBuckets(_limits.MaxBucketsPerPoint);
        return false;
    }

    /// <summary>Values in a packed varint field: one per byte without the continuation bit.</summary>
    private static int Varints(ReadOnlySpan<byte> packed)
    {
        var values = 0;
        foreach (var b in packed)
        {
            if (b < 0x80)
            {
                values++;
            }
        }

        return values;
    }

    private static PayloadProblem TooManySpans(int limit) => new(
        StatusCodes.Status413PayloadTooLarge, Store.PayloadRejection.OverItemLimit, "body", "too_many_spans",
        $"The export holds more than {limit} spans. Export smaller batches.", limit);

    private static PayloadProblem TooManyDataPoints(int limit) => new(
        StatusCodes.Status413PayloadTooLarge, Store.PayloadRejection.OverItemLimit, "body", "too_many_data_points",
        $"The export holds more than {limit} data points. Export smaller batches.", limit);

    private static PayloadProblem TooManyAttributes(int limit) => new(
        StatusCodes.Status400BadRequest, Store.PayloadRejection.OverItemLimit, "body", "too_many_attributes",
        $"A resource, scope, span, metric or data point has more than {limit} attributes (values inside arrays and maps count).", limit);

    private static PayloadProblem TooManyBuckets(int limit) => new(
        StatusCodes.Status400BadRequest, Store.PayloadRejection.OverItemLimit, "body", "too_many_buckets",
        $"A histogram data point has more than {limit} buckets (in one range of an exponential histogram).", limit);

    /// <summary>Reads protobuf wire format from a span; any truncation or bad tag leaves it not <see cref="Ok"/>.</summary>
    private ref struct WireReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;
        private ReadOnlySpan<byte> _pending;

        public bool Ok { get; private set; } = true;

        public bool Next(out int field, out int wire)
        {
            field = wire = 0;
            if (!Ok || _position >= _data.Length)
            {
                return false;
            }

            if (!TryVarint(out var tag) || tag >> 3 == 0 || tag >> 3 > int.MaxValue || (tag & 7) > 5)
            {
                return Ok = false;
            }

            (field, wire) = ((int)(tag >> 3), (int)(tag & 7));
            if (wire == LengthDelimited)
            {
                if (!TryVarint(out var length) || length > (ulong)(_data.Length - _position))
                {
                    return Ok = false;
                }

                _pending = _data.Slice(_position, (int)length);
                _position += (int)length;
            }

            return true;
        }

        /// <summary>The length-delimited value just read by <see cref="Next"/>.</summary>
        public readonly bool Message(out ReadOnlySpan<byte> body)
        {
            body = _pending;
            return true;
        }

        /// <summary>Skips the value of a field just read by <see cref="Next"/> (length-delimited ones are already past).</summary>
        public bool Skip(int wire, int depth)
        {
            switch (wire)
            {
                case Varint:
                    return Ok = TryVarint(out _);
                case Fixed64:
                    return Ok = Advance(8);
                case Fixed32:
                    return Ok = Advance(4);
                case LengthDelimited:
                    return true;
                case StartGroup:
                    return Ok = SkipGroup(depth);
                default:
                    // An end-group tag without its start.
                    return Ok = false;
            }
        }

        private bool SkipGroup(int depth)
        {
            if (depth > RecursionLimit)
            {
                return false;
            }

            while (Next(out _, out var wire))
            {
                if (wire == EndGroup)
                {
                    return true;
                }

                if (!Skip(wire, depth + 1))
                {
                    return false;
                }
            }

            return false;
        }

        private bool Advance(int bytes)
        {
            if (_data.Length - _position < bytes)
            {
                return false;
            }

            _position += bytes;
            return true;
        }

        private bool TryVarint(out ulong value)
        {
            // Tags and lengths under 128, nearly all of them, are one byte.
            if (_position < _data.Length && _data[_position] < 0x80)
            {
                value = _data[_position++];
                return true;
            }

            value = 0;
            for (var shift = 0; shift < 64 && _position < _data.Length; shift += 7)
            {
                var b = _data[_position++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
