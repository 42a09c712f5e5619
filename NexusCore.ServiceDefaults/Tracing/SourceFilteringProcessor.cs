using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace NexusCore.ServiceDefaults;

/// <summary>
/// A batch export processor that exports only the spans of the given ActivitySources, so one exporter
/// gets a subset of what the others get in full (the SDK filters per instrumentation, not per exporter).
/// Written here for that reason; the batching, retry and shutdown are the SDK's own.
/// </summary>
/// <remarks>Batching follows <c>OTEL_BSP_*</c> like the SDK's own exporters (Aspire sets a 1 s delay in development).</remarks>
internal sealed class SourceFilteringProcessor(BaseExporter<Activity> exporter, IReadOnlySet<string> sources, BatchExportActivityProcessorOptions batching)
    : BatchActivityExportProcessor(exporter, batching.MaxQueueSize, batching.ScheduledDelayMilliseconds, batching.ExporterTimeoutMilliseconds, batching.MaxExportBatchSize)
{
    public override void OnEnd(Activity data)
    {
        if (sources.Contains(data.Source.Name))
        {
            base.OnEnd(data);
        }
    }
}
