using System.Diagnostics;
using Xunit;

namespace NexusCore.Testing;

/// <summary>Waits on a condition with a deadline: how tests wait for something to happen, never a bare sleep.</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds and returns how long that took; fails the test after <paramref name="limit"/>.</summary>
    public static async Task<TimeSpan> ThatAsync(Func<Task<bool>> condition, TimeSpan limit, string? what = null, TimeSpan? every = null)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < limit, $"{what ?? "condition"} not met within {limit}");
            await Task.Delay(every ?? TimeSpan.FromMilliseconds(20));
        }

        return clock.Elapsed;
    }

    /// <summary>Polls <paramref name="read"/> until it returns a value, and returns it; fails the test after <paramref name="within"/> (15 s).</summary>
    public static async Task<System.Text.Json.JsonElement> WaitAsync(Func<Task<System.Text.Json.JsonElement?>> read, string what, TimeSpan? within = null)
    {
        System.Text.Json.JsonElement? value = null;
        await ThatAsync(async () => (value = await read()) is not null, within ?? TimeSpan.FromSeconds(15), what, TimeSpan.FromMilliseconds(200));
        return value!.Value;
    }
}
