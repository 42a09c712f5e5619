using System.ComponentModel;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NexusCore.ClientsApi.Caching;
using NexusCore.ClientsApi.Database;
using NexusCore.ClientsApi.Extensions;
using NexusCore.ClientsApi.Telemetry;
using NexusCore.ServiceDefaults;
using NexusCore.Web;

namespace NexusCore.ClientsApi.Tests.Settings;

/// <summary>
/// README's seed-settings table against the code, both ways: every row is a mapped setting with its key and its
/// options type's default, and every mapped setting is a row. No stack needed.
/// </summary>
public sealed partial class ReadmeSettingsTests
{
    /// <summary>The options type that owns each section a seed setting maps into.</summary>
    private static readonly Dictionary<string, Type> Owners = new()
    {
        [CacheOptions.Section] = typeof(CacheOptions),
        [DatabaseOptions.Section] = typeof(DatabaseOptions),
        [PerformanceMonitoringOptions.Section] = typeof(PerformanceMonitoringOptions),
        [SlowQueryOptions.Section] = typeof(SlowQueryOptions),
        [AllowedOriginsOptions.Section] = typeof(AllowedOriginsOptions),
    };

    [Fact]
    public void ReadmesSeedSettingsAreExactlyTheMappedOnesWithTheirKeys()
    {
        var rows = ReadmeRows();

        Assert.Equal(
            SeedSettings.All.Select(s => (s.Name, s.Key)).Order(),
            rows.Select(r => (r.Name, r.Key)).Order());
    }

    [Fact]
    public void EveryMappedKeyIsAnOptionsPropertyWhoseDefaultIsReadmes()
    {
        var rows = ReadmeRows().ToDictionary(r => r.Name);
        foreach (var setting in SeedSettings.All)
        {
            var (section, property) = (setting.Key.Split(':')[0], setting.Key.Split(':')[1]);
            Assert.True(Owners.TryGetValue(section, out var type), $"{setting.Name}: no options type owns section {section}");
            var member = type.GetProperty(property);
            Assert.True(member is { CanWrite: true }, $"{setting.Name}: {type.Name} has no settable {property}");

            var actual = member.GetValue(Activator.CreateInstance(type)) ?? member.GetCustomAttribute<DefaultValueAttribute>()?.Value;
            var documented = rows[setting.Name].Default;
            switch (documented)
            {
                case "none":
                    Assert.Null(actual);
                    break;
                case "the processor count":
                    Assert.Equal(Environment.ProcessorCount, actual);
                    break;
                case "true" or "false":
                    Assert.Equal(bool.Parse(documented), actual);
                    break;
                default:
                    Assert.True(actual is not null, $"{setting.Name}: README says {documented}, {type.Name}.{property} has no default");
                    Assert.Equal(double.Parse(documented, CultureInfo.InvariantCulture), Convert.ToDouble(actual, CultureInfo.InvariantCulture));
                    break;
            }
        }
    }

    [Fact]
    public void EverySeedNameReachesItsKeyAndWinsOverTheKeySetElsewhere()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration["ConnectionStrings:clientsdb"] = "Host=127.0.0.1;Database=unused";
        builder.Configuration["ConnectionStrings:cache"] = "127.0.0.1:1,abortConnect=false";
        builder.Configuration["Cache:FindTtlSeconds"] = "11";
        builder.Configuration["CACHE_TTL_FIND"] = "12";
        builder.Configuration["Cache:SearchTtlSeconds"] = "13";
        builder.AddApplicationServices();

        var options = builder.Services.BuildServiceProvider().GetRequiredService<IOptions<CacheOptions>>().Value;

        Assert.Equal((12, 13), (options.FindTtlSeconds, options.SearchTtlSeconds));
    }

    /// <summary>ClientsApi reports the TTLs and pool sizes in force, by the seed's names, for PerfApi's advice.</summary>
    [Fact]
    public void TheSettingsGaugeReportsTheValuesInForceByTheirSeedNames()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration["ConnectionStrings:clientsdb"] = "Host=127.0.0.1;Database=unused";
        builder.Configuration["ConnectionStrings:cache"] = "127.0.0.1:1,abortConnect=false";
        builder.Configuration["CACHE_DEFAULT_TTL"] = "42";
        builder.Configuration["CACHE_TTL_FIND"] = "7";
        builder.Configuration["DB_WRITE_POOL_SIZE"] = "3";
        builder.AddApplicationServices();
        using var services = builder.Services.BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        var reported = new List<(string Name, string Key, string Subject, long Value)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == SettingsTelemetry.Instrument && instrument.Meter.Scope == meters)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var t = tags.ToArray().ToDictionary(x => x.Key, x => (string)x.Value!);
            reported.Add((t[SettingsTelemetry.NameTag], t[SettingsTelemetry.KeyTag], t.GetValueOrDefault(SettingsTelemetry.QueryTypeTag) ?? t[SettingsTelemetry.PoolTag], value));
        });
        _ = services.GetServices<IHostedService>().OfType<SettingsTelemetry>().Single();
        listener.Start();

        listener.RecordObservableInstruments();

        Assert.Equal(
            [
                ("CACHE_TTL_ANALYTICS", "Cache:AnalyticsTtlSeconds", "analytics", 42L),
                ("CACHE_TTL_COUNT", "Cache:CountTtlSeconds", "count", 42L),
                ("CACHE_TTL_FIND", "Cache:FindTtlSeconds", "find", 7L),
                ("CACHE_TTL_SEARCH", "Cache:SearchTtlSeconds", "search", 42L),
                ("DB_LOOKUP_POOL_SIZE", "Database:LookupPoolSize", "clientsdb-lookups", 20L),
                ("DB_POOL_SIZE", "Database:PoolSize", "clientsdb", 50L),
                ("DB_WRITE_POOL_SIZE", "Database:WritePoolSize", "clientsdb-writes", 3L),
            ],
            reported.Order());
    }

    private sealed record Row(string Name, string Key, string Default);

    /// <summary>The rows of README's "Seed settings" table: <c>| `NAME` | `Key` | default | meaning |</c>.</summary>
    private static IReadOnlyList<Row> ReadmeRows()
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryRoot(), "README.md"));
        var start = Array.IndexOf(lines, "### Seed settings");
        Assert.True(start >= 0, "README has no Seed settings section");
        var rows = lines.Skip(start + 1)
            .SkipWhile(l => !l.StartsWith("| Setting |", StringComparison.Ordinal)).Skip(2)
            .TakeWhile(l => l.StartsWith('|'))
            .Select(l => RowPattern().Match(l))
            .Select(m => { Assert.True(m.Success, "a row README's test cannot read"); return new Row(m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value.Trim('`')); })
            .ToList();
        Assert.NotEmpty(rows);
        return rows;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NexusCore.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("NexusCore.sln not found above the test's folder.");
    }

    [GeneratedRegex(@"^\| `([A-Z_]+)` \| `([A-Za-z]+:[A-Za-z]+)` \| ([^|]+?) \|")]
    private static partial Regex RowPattern();
}
