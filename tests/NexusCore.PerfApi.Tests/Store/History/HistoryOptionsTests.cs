using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Store.History;

namespace NexusCore.PerfApi.Tests.Store.History;

[NoStack]
public sealed class HistoryOptionsTests
{
    private readonly HistoryOptionsValidator _validator = new();

    [Fact]
    public void TheDefaultsAreValidAndKeepFourteenDays()
    {
        var options = new HistoryOptions();

        Assert.True(_validator.Validate(null, options).Succeeded);
        Assert.Equal(TimeSpan.FromDays(14), options.Retention);
        Assert.Equal((1000, 20_000), (options.MaxBatchRows, options.MaxBacklogRows));
        Assert.Equal((TimeSpan.FromHours(2), 24), (options.MinuteRetention, options.CompactionHoursPerPass));
    }

    public static TheoryData<Action<HistoryOptions>, string> Invalid => new()
    {
        { o => o.Retention = TimeSpan.FromMinutes(59), "History:Retention must be from 1 hour to 400 days." },
        { o => o.Retention = TimeSpan.FromDays(401), "History:Retention must be from 1 hour to 400 days." },
        { o => o.MinuteRetention = TimeSpan.FromMinutes(119), "History:MinuteRetention must be from 2 hours to 400 days." },
        { o => o.MinuteRetention = TimeSpan.FromDays(15), "History:MinuteRetention must be at most History:Retention." },
        { o => o.CompactionInterval = TimeSpan.FromSeconds(9), "History:CompactionInterval must be from 10 seconds to 1 hour." },
        { o => o.CompactionHoursPerPass = 0, "History:CompactionHoursPerPass must be from 1 to 9600." },
        { o => o.FlushInterval = TimeSpan.FromMilliseconds(500), "History:FlushInterval must be from 1 second to 5 minutes." },
        { o => o.Grace = TimeSpan.FromSeconds(-1), "History:Grace must be from 0 to 10 minutes." },
        { o => o.MaxBatchRows = 0, "History:MaxBatchRows must be from 1 to 10000." },
        { o => o.MaxBatchRows = 10_001, "History:MaxBatchRows must be from 1 to 10000." },
        { o => o.MaxBacklogRows = 999, "History:MaxBacklogRows must be at least History:MaxBatchRows and at most 1000000." },
        { o => o.MaxBacklogRows = 1_000_001, "History:MaxBacklogRows must be at least History:MaxBatchRows and at most 1000000." },
        { o => o.MaxRetryDelay = TimeSpan.FromSeconds(5), "History:MaxRetryDelay must be from History:FlushInterval to 1 hour." },
        { o => o.RetentionInterval = TimeSpan.FromSeconds(30), "History:RetentionInterval must be from 1 minute to 1 day." },
        { o => o.RetentionBatchRows = 0, "History:RetentionBatchRows must be from 1 to 100000." },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void ASettingOutOfItsRangeIsRejectedNamingTheKey(Action<HistoryOptions> change, string failure)
    {
        var options = new HistoryOptions();
        change(options);

        var result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Equal([failure], result.Failures!);
    }

    [Fact]
    public void PerfApiDoesNotStartWithAnInvalidHistorySetting()
    {
        var services = new ServiceCollection();
        services.AddOptions<HistoryOptions>().Configure(o => o.Retention = TimeSpan.Zero).ValidateOnStart();
        services.AddSingleton<IValidateOptions<HistoryOptions>, HistoryOptionsValidator>();
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("History:Retention must be from 1 hour to 400 days.", error.Failures);
    }
}
