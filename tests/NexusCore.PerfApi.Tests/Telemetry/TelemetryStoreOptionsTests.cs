
using NexusCore.PerfApi.Store;
namespace NexusCore.PerfApi.Tests.Telemetry;

[NoStack]
public sealed class TelemetryStoreOptionsTests
{
    private readonly TelemetryStoreOptionsValidator _validator = new();

    [Fact]
    public void TheDefaultsAreValidAndKeepAnHourInTenSecondBuckets()
    {
        var options = new TelemetryStoreOptions();

        Assert.True(_validator.Validate(null, options).Succeeded);
        Assert.Equal(360, options.BucketCount);
        Assert.Equal(60, options.HistogramCount);
    }

    [Theory]
    [InlineData("00:00:00.500", "01:00:00", "00:01:00", "Telemetry:BucketWidth must be at least 1 second.")]
    [InlineData("00:00:10", "01:00:05", "00:01:00", "Telemetry:Retention must be a positive multiple of Telemetry:BucketWidth.")]
    [InlineData("00:00:10", "01:00:00", "00:00:15", "Telemetry:HistogramWidth must be a multiple of Telemetry:BucketWidth that divides Telemetry:Retention.")]
    [InlineData("00:00:10", "01:00:00", "00:07:00", "Telemetry:HistogramWidth must be a multiple of Telemetry:BucketWidth that divides Telemetry:Retention.")]
    [InlineData("00:00:01", "1.00:00:00", "00:01:00", "Telemetry:Retention / Telemetry:BucketWidth must be at most 10000 buckets.")]
    public void InconsistentWindowsAreRejectedNamingTheKey(string bucketWidth, string retention, string histogramWidth, string failure)
    {
        var options = new TelemetryStoreOptions
        {
            BucketWidth = TimeSpan.Parse(bucketWidth, System.Globalization.CultureInfo.InvariantCulture),
            Retention = TimeSpan.Parse(retention, System.Globalization.CultureInfo.InvariantCulture),
            HistogramWidth = TimeSpan.Parse(histogramWidth, System.Globalization.CultureInfo.InvariantCulture),
        };

        var result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(failure, result.Failures!);
    }

    [Fact]
    public void BoundsMustBePositive()
    {
        var result = _validator.Validate(null, new TelemetryStoreOptions { MaxQuerySeries = 0, IngestQueueCapacity = -1 });

        Assert.Equal(["Telemetry:MaxQuerySeries must be greater than zero.", "Telemetry:IngestQueueCapacity must be greater than zero."], result.Failures!);
    }
}
