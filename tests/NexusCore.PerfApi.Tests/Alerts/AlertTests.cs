using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Analysis.Alerts;
using NexusCore.PerfApi.Tests.Performance;

namespace NexusCore.PerfApi.Tests.Alerts;

[NoStack]
public sealed class AlertTests
{
    [Fact]
    public void NothingAlertsOnTelemetryJustShortOfEveryThreshold()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.Queries("search", [1999]);
        telemetry.Lookups("find", hits: 10, misses: 10);
        telemetry.Lookups("count", hits: 0, misses: 19);
        telemetry.Pool(used: 9, idle: 1, max: 10);
        telemetry.CacheMemory(entries: 100, megabytes: 100);

        Assert.Empty(Evaluator(telemetry).Evaluate());
    }

    [Fact]
    public void EachConditionAlertsWithItsValueThresholdAndSubject()
    {
        var telemetry = new SyntheticTelemetry();
        telemetry.Queries("search", [2500, 10], operation: "SEARCH");
        telemetry.Lookups("find", hits: 9, misses: 11);
        telemetry.Pool(used: 10, idle: 0, max: 10);
        telemetry.CacheMemory(entries: 4000, megabytes: 150);

        var conditions = Evaluator(telemetry).Evaluate().ToDictionary(c => c.Kind);

        Assert.Equal(4, conditions.Count);
        Assert.Equal(("clients-api search clients SEARCH", 2.5, 2.0, "s"), Describe(conditions[AlertKind.SlowQuery]));
        Assert.Equal(("find", 45.0, 50.0, "%"), Describe(conditions[AlertKind.CacheHitRate]));
        Assert.Equal(("clients-api instance-1 clientsdb", 100.0, 90.0, "%"), Describe(conditions[AlertKind.PoolUtilization]));
        Assert.Equal(("clients-api instance-1", 150.0, 100.0, "MB"), Describe(conditions[AlertKind.CacheSize]));
        Assert.Equal("The cache hit rate of find reads is 45 % (9 hits, 11 misses), below 50 %.", conditions[AlertKind.CacheHitRate].Message);
    }

    [Fact]
    public void ASlowQueryAlertLastsAsLongAsTheWindowHoldsTheSlowRun()
    {
        var telemetry = new SyntheticTelemetry();
        var evaluator = Evaluator(telemetry);
        telemetry.Queries("search", [2000]);

        Assert.Single(evaluator.Evaluate());
        telemetry.Clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Single(evaluator.Evaluate());
        telemetry.Clock.Advance(TimeSpan.FromSeconds(40));
        Assert.Empty(evaluator.Evaluate());
    }

    [Fact]
    public void TheBoardStartsNewConditionsKeepsHoldingOnesAndStopsTheRest()
    {
        var board = new AlertBoard(Options.Create(new AlertOptions()));
        var start = new DateTimeOffset(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);
        var pool = new AlertCondition(AlertKind.PoolUtilization, "clients-api", 95, 90, "%", "pool at 95 %");
        var size = new AlertCondition(AlertKind.CacheSize, "clients-api", 120, 100, "MB", "cache at 120 MB");

        var first = board.Update([pool], start);
        var second = board.Update([pool with { Value = 97, Message = "pool at 97 %" }, size], start.AddSeconds(5));
        var third = board.Update([size], start.AddSeconds(10));

        Assert.Equal([(AlertKind.PoolUtilization, AlertState.Started)], first.Select(t => (t.Kind, t.State)));
        Assert.Equal([(AlertKind.CacheSize, AlertState.Started)], second.Select(t => (t.Kind, t.State)));
        var stopped = Assert.Single(third);
        Assert.Equal((AlertKind.PoolUtilization, AlertState.Stopped, 97.0), (stopped.Kind, stopped.State, stopped.Value));
        Assert.Equal("Stopped after 10 s: pool at 97 %", stopped.Message);
        var active = Assert.Single(board.Active);
        Assert.Equal((AlertKind.CacheSize, start.AddSeconds(5), start.AddSeconds(10)), (active.Kind, active.Since, active.LastEvaluated));
        Assert.Equal([AlertState.Stopped, AlertState.Started, AlertState.Started], board.Recent.Select(t => t.State));
        Assert.Equal(start.AddSeconds(10), board.LastEvaluatedAt);
    }

    [Fact]
    public void TheBoardKeepsOnlyTheMostRecentTransitions()
    {
        var board = new AlertBoard(Options.Create(new AlertOptions { MaxTransitions = 3 }));
        var start = new DateTimeOffset(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);
        var condition = new AlertCondition(AlertKind.CacheSize, "clients-api", 120, 100, "MB", "big");
        for (var i = 0; i < 5; i++)
        {
            board.Update(i % 2 == 0 ? [condition] : [], start.AddSeconds(i));
        }

        Assert.Equal([start.AddSeconds(4), start.AddSeconds(3), start.AddSeconds(2)], board.Recent.Select(t => t.At));
    }

    [Fact]
    public void TheMonitorLogsAnEventWhenAnAlertStartsAndWhenItStops()
    {
        var telemetry = new SyntheticTelemetry();
        var options = Options.Create(new AlertOptions());
        var board = new AlertBoard(options);
        var logs = new CapturingLogger();
        var monitor = new AlertMonitor(Evaluator(telemetry), board, telemetry.Clock, options, logs);

        telemetry.CacheMemory(entries: 10, megabytes: 101);
        monitor.EvaluateOnce();
        monitor.EvaluateOnce();
        telemetry.CacheMemory(entries: 10, megabytes: 99);
        monitor.EvaluateOnce();

        Assert.Equal(2, logs.Entries.Count);
        Assert.Equal(LogLevel.Warning, logs.Entries[0].Level);
        Assert.Equal("Alert {AlertKind} started for {Subject}: {Value} {Unit} crosses the threshold of {Threshold}", logs.Entries[0].Template);
        Assert.Equal(AlertKind.CacheSize, logs.Entries[0].Values["AlertKind"]);
        Assert.Equal(101.0, (double)logs.Entries[0].Values["Value"]!, 9);
        Assert.Equal(LogLevel.Information, logs.Entries[1].Level);
        Assert.Equal("Alert {AlertKind} stopped for {Subject} (last value {Value} {Unit})", logs.Entries[1].Template);
        Assert.Equal("clients-api instance-1", logs.Entries[1].Values["Subject"]);
        Assert.Empty(board.Active);
    }

    [Fact]
    public void TheValidatorRejectsThresholdsThatCouldNeverFireOrAlwaysFire()
    {
        var result = new AlertOptionsValidator().Validate(null, new AlertOptions
        {
            SlowQuerySeconds = 0,
            CacheHitRatePercent = 101,
            PoolUtilizationPercent = 0,
            CacheSizeMb = -1,
            Window = TimeSpan.FromSeconds(1),
            EvaluationInterval = TimeSpan.Zero,
            MinCacheLookups = 0,
            MaxTransitions = 0,
        });

        Assert.True(result.Failed);
        Assert.Equal(8, result.Failures!.Count());
        Assert.True(new AlertOptionsValidator().Validate(null, new AlertOptions()).Succeeded);
    }

    private static AlertEvaluator Evaluator(SyntheticTelemetry telemetry) =>
        new(telemetry.Reader, new StaticOptionsMonitor<AlertOptions>(new AlertOptions()));

    private static (string, double, double, string) Describe(AlertCondition condition) =>
        (condition.Subject, Math.Round(condition.Value, 9), condition.Threshold, condition.Unit);
}

internal sealed class StaticOptionsMonitor<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;

    public T Get(string? name) => value;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}

/// <summary>Keeps each log event's level, message template and named values.</summary>
internal sealed class CapturingLogger : ILogger<AlertMonitor>
{
    public List<(LogLevel Level, string Template, IReadOnlyDictionary<string, object?> Values)> Entries { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var values = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
        Entries.Add((logLevel, values.FirstOrDefault(v => v.Key == "{OriginalFormat}").Value as string ?? "",
            values.Where(v => v.Key != "{OriginalFormat}").ToDictionary(v => v.Key, v => v.Value)));
    }
}
