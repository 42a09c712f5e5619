using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NexusCore.ServiceDefaults;
using NexusCore.Web;
using OpenTelemetry.Metrics;

namespace NexusCore.ClientsApi.Tests.Telemetry;

/// <summary>Which of ASP.NET Core's per-request meters the service defaults collect.</summary>
public sealed class CollectedMetersTests
{
    [Fact]
    public void KestrelsMemoryPoolCountersAreNotCollectedWhileTheRequestMetricsAre()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.AddServiceDefaults();
        builder.AddWebDefaults();
        // A reader, as the OTLP exporters are where the service runs: without one nothing is collected at all.
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddInMemoryExporter(new List<Metric>()));
        using var host = builder.Build();
        _ = host.Services.GetRequiredService<MeterProvider>();

        // Instruments made after the provider through the host's meter factory, as ASP.NET Core's are when the server
        // starts: a collected one is enabled (its measurements reach the SDK), a dropped one is not, so updating it costs nothing.
        var meters = host.Services.GetRequiredService<IMeterFactory>();
        var pool = meters.Create(NexusCore.ServiceDefaults.Extensions.KestrelMemoryPoolMeter);
        var hosting = meters.Create("Microsoft.AspNetCore.Hosting");
        var rented = pool.CreateCounter<long>("aspnetcore.memory_pool.rented");
        var duration = hosting.CreateHistogram<double>("http.server.request.duration");

        Assert.Equal((false, true), (rented.Enabled, duration.Enabled));
    }
}
