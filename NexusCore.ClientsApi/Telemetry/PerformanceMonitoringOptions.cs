namespace NexusCore.ClientsApi.Telemetry;

/// <summary>Section <c>PerformanceMonitoring</c> (seed name <c>PERFORMANCE_MONITORING</c>).</summary>
public sealed class PerformanceMonitoringOptions
{
    public const string Section = "PerformanceMonitoring";

    /// <summary>False turns ClientsApi's query spans and <c>nexuscore.query.duration</c> off (Npgsql's own telemetry stays).</summary>
    public bool Enabled { get; set; } = true;
}
