using Google.Protobuf;
using NexusCore.PerfApi.Ingest;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Metrics.V1;
using static NexusCore.PerfApi.Tests.Features.Otlp.OtlpPayloads;

namespace NexusCore.PerfApi.Tests.Features.Otlp;

/// <summary>The receiver's item limits, counted on the wire before parsing, and the strings cut after it.</summary>
[NoStack]
public sealed class IngestLimitsTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);
    private static readonly OtlpReceiverOptions Defaults = new();

    [Fact]
    public void AnExportWithinEveryLimitPassesAndNeedsNoCutting()
    {
        var traces = TraceRequest("clients-api", [.. Enumerable.Range(0, 100).Select(_ => QuerySpan())]);

        var shape = OtlpLimits.Check(traces.ToByteArray(), OtlpSignal.Traces, Defaults);

        Assert.Equal(new OtlpShape(null, false), shape);
    }

    [Fact]
    public void FourMegabytesOfEmptySpansAre413TooManySpansWithoutMaterializingThem()
    {
        // Two million empty spans (tag 0x12, length 0) in one scope: the parser would allocate hundreds of megabytes.
        var body = EmptySpans(2_000_000);
        Assert.True(body.Length <= Defaults.MaxPayloadBytes, $"{body.Length} bytes");

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var shape = OtlpLimits.Check(body, OtlpSignal.Traces, Defaults);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        var problem = Assert.IsType<PayloadProblem>(shape.Problem);
        Assert.Equal((413, "too_many_spans", 10_000), (problem.Status, problem.Code, problem.Limit));
        Assert.True(allocated < 4096, $"{allocated} bytes allocated to count the spans");
    }

    [Fact]
    public void SpansUpToTheLimitPassAndOneMoreIs413()
    {
        var limits = new OtlpReceiverOptions { MaxSpansPerRequest = 50 };

        Assert.Null(OtlpLimits.Check(EmptySpans(50), OtlpSignal.Traces, limits).Problem);
        Assert.Equal("too_many_spans", OtlpLimits.Check(EmptySpans(51), OtlpSignal.Traces, limits).Problem?.Code);
    }

    [Fact]
    public void DataPointsBeyondTheLimitAre413TooManyDataPointsCountedAcrossMetrics()
    {
        var limits = new OtlpReceiverOptions { MaxDataPointsPerRequest = 10 };
        var gauge = Gauge("g", "1", [.. Enumerable.Range(0, 6).Select(i => Number(Now, Now, i))]);
        var histogram = Histogram("h", "s", AggregationTemporality.Delta,
            [.. Enumerable.Range(0, 5).Select(_ => HistogramPoint(Now, Now, 1, [1], [1, 0]))]);

        var problem = OtlpLimits.Check(MetricRequest("svc", gauge, histogram).ToByteArray(), OtlpSignal.Metrics, limits).Problem;

        Assert.Equal((413, "too_many_data_points", (int?)10), (problem?.Status, problem?.Code, problem?.Limit));
        Assert.Null(OtlpLimits.Check(MetricRequest("svc", gauge).ToByteArray(), OtlpSignal.Metrics, limits).Problem);
    }

    [Theory]
    [InlineData("span")]
    [InlineData("resource")]
    [InlineData("nested")]
    public void AttributesBeyondTheLimitOfOneItemAre400TooManyAttributes(string where)
    {
        var limits = new OtlpReceiverOptions { MaxAttributesPerItem = 8 };
        var request = where switch
        {
            "span" => TraceRequest("svc", Span(Now, TimeSpan.FromMilliseconds(1), [.. Enumerable.Range(0, 9).Select(i => Attribute($"k{i}", "v"))])),
            "resource" => WithResourceAttributes(TraceRequest("svc", QuerySpan()), 8),
            _ => TraceRequest("svc", Span(Now, TimeSpan.FromMilliseconds(1), Attribute("a", "b"), ArrayAttribute("list", 8))),
        };

        var problem = OtlpLimits.Check(request.ToByteArray(), OtlpSignal.Traces, limits).Problem;

        Assert.Equal((400, "too_many_attributes", (int?)8), (problem?.Status, problem?.Code, problem?.Limit));
    }

    [Fact]
    public void EightAttributesPerSpanInManySpansPassTheLimitOfEight()
    {
        var limits = new OtlpReceiverOptions { MaxAttributesPerItem = 8 };
        var spans = Enumerable.Range(0, 20).Select(_ => Span(Now, TimeSpan.FromMilliseconds(1), [.. Enumerable.Range(0, 8).Select(i => Attribute($"k{i}", "v"))]));

        Assert.Null(OtlpLimits.Check(TraceRequest("svc", [.. spans]).ToByteArray(), OtlpSignal.Traces, limits).Problem);
    }

    [Fact]
    public void AnExplicitHistogramPointWithMoreBucketsThanTheLimitIs400TooManyBuckets()
    {
        var limits = new OtlpReceiverOptions { MaxBucketsPerPoint = 16 };
        var fits = HistogramPoint(Now, Now, 1, [.. Enumerable.Range(1, 15).Select(i => (double)i)], new ulong[16]);
        var tooMany = HistogramPoint(Now, Now, 1, [.. Enumerable.Range(1, 16).Select(i => (double)i)], new ulong[17]);
        var boundsOnly = HistogramPoint(Now, Now, 1, [.. Enumerable.Range(1, 16).Select(i => (double)i)], []);

        Assert.Null(Check(Histogram("h", "s", AggregationTemporality.Delta, fits), limits));
        Assert.Equal((400, "too_many_buckets", (int?)16), Describe(Check(Histogram("h", "s", AggregationTemporality.Delta, tooMany), limits)));
        Assert.Equal("too_many_buckets", Check(Histogram("h", "s", AggregationTemporality.Delta, boundsOnly), limits)?.Code);
    }

    [Fact]
    public void AnExponentialHistogramRangeWithMoreBucketsThanTheLimitIs400TooManyBuckets()
    {
        var limits = new OtlpReceiverOptions { MaxBucketsPerPoint = 16 };

        Assert.Null(Check(Exponential(positive: 16, negative: 16), limits));
        Assert.Equal((400, "too_many_buckets", (int?)16), Describe(Check(Exponential(positive: 17, negative: 0), limits)));
        Assert.Equal("too_many_buckets", Check(Exponential(positive: 0, negative: 1000), limits)?.Code);
    }

    [Fact]
    public void ATruncatedBodyIsMalformedBeforeTheParserSeesIt()
    {
        var body = TraceRequest("svc", QuerySpan(), QuerySpan()).ToByteArray();

        var problem = OtlpLimits.Check(body[..(body.Length - 3)], OtlpSignal.Traces, Defaults).Problem;

        Assert.Equal((400, "protobuf_invalid"), (problem?.Status, problem?.Code));
    }

    [Fact]
    public void NestingDeeperThanTheParsersLimitIsMalformed()
    {
        var value = new AnyValue { StringValue = "x" };
        for (var i = 0; i < 120; i++)
        {
            var array = new ArrayValue();
            array.Values.Add(value);
            value = new AnyValue { ArrayValue = array };
        }

        var request = TraceRequest("svc", Span(Now, TimeSpan.FromMilliseconds(1), new KeyValue { Key = "deep", Value = value }));

        Assert.Equal("protobuf_invalid", OtlpLimits.Check(request.ToByteArray(), OtlpSignal.Traces, new OtlpReceiverOptions { MaxAttributesPerItem = 1000 }).Problem?.Code);
        Assert.Throws<InvalidProtocolBufferException>(() => ExportTraceServiceRequest.Parser.ParseFrom(request.ToByteArray()));
    }

    [Fact]
    public void LongStringsAreNotedAndCutToTheirLimitsStatementsToTheirOwn()
    {
        var limits = new OtlpReceiverOptions { MaxAttributeLength = 32, MaxStatementTextLength = 100 };
        var longName = new string('s', 5000);
        var sql = "SELECT " + string.Join(", ", Enumerable.Range(0, 500).Select(i => $"c{i}")) + " FROM t";
        var request = TraceRequest(longName, Span(Now, TimeSpan.FromMilliseconds(1),
            Attribute("db.system.name", "postgresql"),
            Attribute("db.query.text", sql),
            Attribute("db.collection.name", new string('t', 40) + "😀tail"),
            Attribute(new string('k', 64), "v"),
            ArrayAttribute("list", 30)));
        var body = request.ToByteArray();

        var shape = OtlpLimits.Check(body, OtlpSignal.Traces, limits);
        var parsed = ExportTraceServiceRequest.Parser.ParseFrom(body);
        var cut = OtlpTruncation.Apply(parsed, limits);

        Assert.Equal(new OtlpShape(null, true), shape);
        Assert.True(cut);
        Assert.Equal(new string('s', 32), parsed.ResourceSpans[0].Resource.Attributes[0].Value.StringValue);
        var attributes = parsed.ResourceSpans[0].ScopeSpans[0].Spans[0].Attributes;
        Assert.Equal(sql[..100], attributes[1].Value.StringValue);
        Assert.Equal(new string('t', 32), attributes[2].Value.StringValue);
        Assert.Equal(new string('k', 32), attributes[3].Key);
        Assert.Equal(AnyValue.ValueOneofCase.StringValue, attributes[4].Value.ValueCase);
        Assert.Equal(32, attributes[4].Value.StringValue.Length);
        Assert.StartsWith("[v0,v1,", attributes[4].Value.StringValue);

        var batch = TracesDecoder.Decode(parsed);
        Assert.Equal((new string('s', 32), new string('t', 32)), (batch.QuerySpans[0].Service, batch.QuerySpans[0].Table));
    }

    [Theory]
    [InlineData("bool", false)]
    [InlineData("int", false)]
    [InlineData("double", false)]
    [InlineData("bytes-100", false)]
    [InlineData("bytes-200", true)]
    [InlineData("string-256", false)]
    [InlineData("string-257", true)]
    public void AValueIsLongWhenItsTextWouldBe(string value, bool isLong)
    {
        var attribute = value switch
        {
            "bool" => Attribute("k", true),
            "int" => Attribute("k", long.MinValue),
            "double" => new KeyValue { Key = "k", Value = new AnyValue { DoubleValue = 1.5 } },
            "bytes-100" => new KeyValue { Key = "k", Value = new AnyValue { BytesValue = ByteString.CopyFrom(new byte[100]) } },
            "bytes-200" => new KeyValue { Key = "k", Value = new AnyValue { BytesValue = ByteString.CopyFrom(new byte[200]) } },
            "string-256" => Attribute("k", new string('x', 256)),
            _ => Attribute("k", new string('x', 257)),
        };

        var shape = OtlpLimits.Check(TraceRequest("svc", Span(Now, TimeSpan.FromMilliseconds(1), attribute)).ToByteArray(), OtlpSignal.Traces, Defaults);

        Assert.Equal(new OtlpShape(null, isLong), shape);
    }

    [Fact]
    public void ACutNeverSplitsASurrogatePair()
    {
        Assert.Equal("ab", OtlpTruncation.Cut("ab😀c", 3));
        Assert.Equal("ab😀", OtlpTruncation.Cut("ab😀c", 4));
    }

    [Fact]
    public void MetricNamesUnitsAndPointAttributesAreCut()
    {
        var limits = new OtlpReceiverOptions { MaxAttributeLength = 16 };
        var request = MetricRequest("svc", Gauge(new string('n', 100), new string('u', 100), Number(Now, Now, 1, Attribute("route", new string('r', 100)))));

        Assert.True(OtlpLimits.Check(request.ToByteArray(), OtlpSignal.Metrics, limits).HasLongStrings);
        Assert.True(OtlpTruncation.Apply(request, limits));

        var metric = request.ResourceMetrics[0].ScopeMetrics[0].Metrics[0];
        Assert.Equal((new string('n', 16), new string('u', 16), new string('r', 16)), (metric.Name, metric.Unit, metric.Gauge.DataPoints[0].Attributes[0].Value.StringValue));
    }

    [Fact]
    public void TheDefaultsAreValidAndAStatementLimitBelowTheAttributeLimitIsNot()
    {
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        Assert.True(System.ComponentModel.DataAnnotations.Validator.TryValidateObject(Defaults, new(Defaults), results, validateAllProperties: true));

        var bad = new OtlpReceiverOptions { MaxAttributeLength = 512, MaxStatementTextLength = 256 };
        Assert.False(System.ComponentModel.DataAnnotations.Validator.TryValidateObject(bad, new(bad), results, validateAllProperties: true));
        Assert.Contains(results, r => r.ErrorMessage!.Contains("MaxStatementTextLength", StringComparison.Ordinal));
    }

    private static PayloadProblem? Check(Metric metric, OtlpReceiverOptions limits) =>
        OtlpLimits.Check(MetricRequest("svc", metric).ToByteArray(), OtlpSignal.Metrics, limits).Problem;

    private static (int?, string?, int?) Describe(PayloadProblem? problem) => (problem?.Status, problem?.Code, problem?.Limit);

    private static OpenTelemetry.Proto.Trace.V1.Span QuerySpan() => Span(Now, TimeSpan.FromMilliseconds(2),
        Attribute("nexuscore.query.type", "find"), Attribute("db.collection.name", "clients"), Attribute("db.operation.name", "by_id"));

    private static KeyValue ArrayAttribute(string key, int values)
    {
        var array = new ArrayValue();
        array.Values.AddRange(Enumerable.Range(0, values).Select(i => new AnyValue { StringValue = $"v{i}" }));
        return new KeyValue { Key = key, Value = new AnyValue { ArrayValue = array } };
    }

    private static ExportTraceServiceRequest WithResourceAttributes(ExportTraceServiceRequest request, int extra)
    {
        request.ResourceSpans[0].Resource.Attributes.AddRange(Enumerable.Range(0, extra).Select(i => Attribute($"r{i}", "v")));
        return request;
    }

    private static Metric Exponential(int positive, int negative)
    {
        var point = new ExponentialHistogramDataPoint { StartTimeUnixNano = Nanos(Now), TimeUnixNano = Nanos(Now), Count = 1, Scale = 3 };
        point.Positive = new ExponentialHistogramDataPoint.Types.Buckets { Offset = -2 };
        point.Positive.BucketCounts.AddRange(Enumerable.Repeat(300UL, positive));
        point.Negative = new ExponentialHistogramDataPoint.Types.Buckets();
        point.Negative.BucketCounts.AddRange(Enumerable.Repeat(1UL, negative));
        var histogram = new ExponentialHistogram { AggregationTemporality = AggregationTemporality.Delta };
        histogram.DataPoints.Add(point);
        return new Metric { Name = "e", Unit = "s", ExponentialHistogram = histogram };
    }
}
