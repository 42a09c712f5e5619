using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NexusCore.PerfApi.Store;
using NexusCore.PerfApi.Store.History;
using Npgsql;
using static NexusCore.PerfApi.Tests.Store.History.HistoryFixtures;

namespace NexusCore.PerfApi.Tests.Store.History;

/// <summary>The history writer, reader and retention against the stack's Postgres, as PerfApi's own role.</summary>
[Collection(StackCollection.Name)]
public sealed class HistoryWriterTests(PerfApiStack stack)
{
    [Fact]
    public async Task TheBacklogIsWrittenInBatchesOfAtMostMaxBatchRowsAndReadsBackWhole()
    {
        await using var db = await PerfApiRoleAsync(stack);
        var service = Service("batches");
        var start = Minute(TimeSpan.FromDays(2));
        string[] types = ["count", "find", "search", "analytics", "write"];
        var rollups = (
            from minute in Enumerable.Range(0, 50)
            from type in types
            select new MinuteRollup(
                start.AddMinutes(minute),
                new RollupKey(service, "clients", "SELECT", type, null),
                Histogram(Durations(minute * 10 + Array.IndexOf(types, type), 20)),
                minute % 10 == 0 ? 1 : 0)).ToList();
        var counters = new HistoryCounters();
        var writer = Writer(db, new HistoryOptions { MaxBatchRows = 100 }, counters);

        writer.Enqueue(rollups);
        Assert.Equal(250, writer.Backlog);
        Assert.True(await writer.WriteBacklogAsync(CancellationToken.None));

        // 250 rows in three COPYs (100, 100, 50), nothing left waiting.
        Assert.Equal((250L, 3L, 0L, 0L), (counters.Snapshot().RowsWritten, counters.Snapshot().BatchesWritten, counters.Snapshot().Backlog, counters.Snapshot().WriteFailures));
        Assert.Equal(0, writer.Backlog);
        var rows = await RowsAsync(stack, service);
        Assert.Equal(250, rows.Count);
        Assert.Equal(250 * 20, rows.Sum(r => r.Count));

        var series = await new HistoryReader(db).ReadAsync(start, start.AddMinutes(50), TimeSpan.FromMinutes(10), CancellationToken.None);
        var mine = series.Where(s => s.Key.Service == service).ToList();
        Assert.Equal(types.Order(), mine.Select(s => s.Key.QueryType).Order());
        foreach (var entry in mine)
        {
            var expected = new ExponentialHistogram();
            foreach (var rollup in rollups.Where(r => r.Key == entry.Key))
            {
                expected.Merge(rollup.Durations);
            }

            Assert.Equal(1000, entry.Durations.Count);
            Assert.Equal(expected.Sum, entry.Durations.Sum, 9);
            Assert.Equal((expected.Min, expected.Max), (entry.Durations.Min, entry.Durations.Max));
            Assert.Equal(5, entry.Errors);
            Assert.Equal(start.AddMinutes(49), entry.LastMinute);
            double[] quantiles = [0.5, 0.95, 0.99];
            Assert.Equal(quantiles.Select(expected.Quantile), quantiles.Select(entry.Durations.Quantile));
            Assert.Equal(Enumerable.Range(0, 5).Select(i => start.AddMinutes(10 * i)), entry.Points.Select(p => p.Start));
            Assert.All(entry.Points, p => Assert.Equal((200L, 1L), (p.Count, p.Errors)));
        }
    }

    [Fact]
    public async Task TheSameKeyAndMinuteWrittenTwiceAreMergedWhenRead()
    {
        await using var db = await PerfApiRoleAsync(stack);
        var service = Service("additive");
        var minute = Minute(TimeSpan.FromDays(3));
        var key = new RollupKey(service, "clients", "SELECT", "find", true);
        var before = Durations(1, 1000);
        var after = Durations(2, 1000);
        // Two runs of PerfApi: one wrote its part of the minute at shutdown, the next one the rest; the second at a
        // coarser scale (as a sender with a wider range would send), which the read must bring both to.
        var first = new MinuteRollup(minute, key, Histogram(before), 3);
        var second = new MinuteRollup(minute, key, Histogram(after, scale: 3), 4);
        var counters = new HistoryCounters();
        var one = Writer(db, new HistoryOptions(), counters);
        one.Enqueue([first]);
        Assert.True(await one.WriteBacklogAsync(CancellationToken.None));
        var two = Writer(db, new HistoryOptions(), counters);
        two.Enqueue([second]);
        Assert.True(await two.WriteBacklogAsync(CancellationToken.None));
        Assert.Equal([(minute, 1000L), (minute, 1000L)], await RowsAsync(stack, service));

        var read = Assert.Single(await new HistoryReader(db).ReadAsync(minute, minute.AddMinutes(1), TimeSpan.FromMinutes(1), CancellationToken.None), s => s.Key.Service == service);

        var merged = first.Durations.Clone();
        merged.Merge(second.Durations);
        var all = before.Concat(after).Order().ToList();
        Assert.Equal(key, read.Key);
        Assert.Equal((2000L, 7L), (read.Durations.Count, read.Errors));
        Assert.Equal(all.Sum(), read.Durations.Sum, 9);
        Assert.Equal((all[0], all[^1]), (read.Durations.Min, read.Durations.Max));
        Assert.Equal(3, read.Durations.Scale);
        foreach (var q in new[] { 0.5, 0.95, 0.99 })
        {
            Assert.Equal(merged.Quantile(q), read.Durations.Quantile(q));
            AssertWithin(NearestRank(all, q), read.Durations.Quantile(q), read.Durations.RelativeError);
        }

        var point = Assert.Single(read.Points);
        Assert.Equal((minute, 2000L, 7L), (point.Start, point.Count, point.Errors));
    }

    [Fact]
    public async Task WhilePostgresRefusesTheWriterKeepsTheNewestMaxBacklogRowsAndWritesThemOnceItAnswers()
    {
        // PerfApi's role with a password that is wrong until the test says otherwise: every write fails at login.
        var connection = new NpgsqlConnectionStringBuilder(await stack.ConnectionStringAsync("clientsdb-perf-api")) { Pooling = false };
        var password = connection.Password!;
        connection.Password = null;
        var refuse = true;
        var builder = new NpgsqlDataSourceBuilder(connection.ConnectionString);
        builder.UsePasswordProvider(_ => refuse ? "wrong" : password, (_, _) => ValueTask.FromResult(refuse ? "wrong" : password));
        await using var db = builder.Build();

        var service = Service("backlog");
        var start = Minute(TimeSpan.FromDays(4));
        var rollups = Enumerable.Range(0, 150)
            .Select(i => new MinuteRollup(start.AddMinutes(i), new RollupKey(service, "clients", "SELECT", "find", false), Histogram([0.001 * (i + 1)]), 0))
            .ToList();
        var counters = new HistoryCounters();
        var writer = Writer(db, new HistoryOptions { MaxBatchRows = 30, MaxBacklogRows = 100 }, counters);

        writer.Enqueue(rollups);
        Assert.Equal(100, writer.Backlog);
        Assert.Equal(50, counters.Snapshot().RowsDroppedBacklogFull);
        // The 50 oldest went: the oldest minute still waiting is the 51st, and nothing from it on is in Postgres yet.
        Assert.Equal(start.AddMinutes(50), writer.PersistedBefore);

        Assert.False(await writer.WriteBacklogAsync(CancellationToken.None));
        Assert.False(await writer.WriteBacklogAsync(CancellationToken.None));
        Assert.Equal((2L, 0L, 100), (counters.Snapshot().WriteFailures, counters.Snapshot().RowsWritten, writer.Backlog));
        Assert.Empty(await RowsAsync(stack, service));

        refuse = false;
        Assert.True(await writer.WriteBacklogAsync(CancellationToken.None));
        Assert.Equal((100L, 4L, 0), (counters.Snapshot().RowsWritten, counters.Snapshot().BatchesWritten, writer.Backlog));
        Assert.Equal(rollups.Skip(50).Select(r => (r.Minute, 1L)), await RowsAsync(stack, service));
    }

    [Fact]
    public async Task KeysWithNulLoneSurrogatesOrHugeStringsAreWrittenCleanedInsteadOfPoisoningTheBatch()
    {
        await using var db = await PerfApiRoleAsync(stack);
        var service = Service("clean");
        var minute = Minute(TimeSpan.FromDays(5));
        var counters = new HistoryCounters();
        var writer = Writer(db, new HistoryOptions(), counters);
        writer.Enqueue([
            new MinuteRollup(minute, new RollupKey(service, "cli\0ents", "SELECT", "find", null), Histogram([0.002]), 0),
            new MinuteRollup(minute, new RollupKey(service, "clients\uD800", "SELECT", new string('x', 5000), null), Histogram([0.003]), 0),
        ]);

        Assert.True(await writer.WriteBacklogAsync(CancellationToken.None));

        Assert.Equal((2L, 0L), (counters.Snapshot().RowsWritten, counters.Snapshot().RowsRejected));
        var keys = (await new HistoryReader(db).ReadAsync(minute, minute.AddMinutes(1), TimeSpan.FromMinutes(1), CancellationToken.None))
            .Where(s => s.Key.Service == service).Select(s => (s.Key.Table, s.Key.QueryType.Length)).Order().ToList();
        Assert.Equal([("clients", 4), ("clients\uFFFD", HistoryWriter.MaxKeyLength)], keys);
    }

    [Fact]
    public async Task RetentionDeletesRowsOlderThanTheRetentionInBatchesOfAtMostRetentionBatchRows()
    {
        await using var db = await PerfApiRoleAsync(stack);
        var service = Service("retention");
        var old = Minute(TimeSpan.FromDays(15));
        var recent = Minute(TimeSpan.FromDays(13));
        var key = new RollupKey(service, "clients", "SELECT", "count", null);
        var writer = Writer(db, new HistoryOptions(), new HistoryCounters());
        writer.Enqueue(Enumerable.Range(0, 250).Select(i => new MinuteRollup(old.AddMinutes(-i), key, Histogram([0.001]), 0)));
        writer.Enqueue(Enumerable.Range(0, 10).Select(i => new MinuteRollup(recent.AddMinutes(i), key, Histogram([0.001]), 0)));
        Assert.True(await writer.WriteBacklogAsync(CancellationToken.None));
        Assert.Equal(260, (await RowsAsync(stack, service)).Count);

        var counters = new HistoryCounters();
        var retention = new HistoryRetention(
            db,
            Options.Create(new HistoryOptions { Retention = TimeSpan.FromDays(14), RetentionBatchRows = 100 }),
            counters,
            TimeProvider.System,
            NullLogger<HistoryRetention>.Instance);
        var batches = (await retention.SweepAsync(CancellationToken.None)).MinuteBatches;

        // Only this test writes rows older than 14 days: three DELETEs of at most 100, the last one short.
        Assert.Equal([100, 100, 50], batches);
        Assert.Equal(250, counters.Snapshot().RowsDeleted);
        var left = await RowsAsync(stack, service);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => recent.AddMinutes(i)), left.Select(r => r.Minute));
        Assert.Equal([0], (await retention.SweepAsync(CancellationToken.None)).MinuteBatches);
    }
}

/// <summary>The writer's own loop: when it takes a minute, and what it does at shutdown.</summary>
[Collection(StackCollection.Name)]
public sealed class HistoryWriterLoopTests(PerfApiStack stack)
{
    [Fact]
    public async Task AMinuteIsWrittenOnceItsGraceHasPassedAndTheOpenMinutesAtShutdown()
    {
        await using var db = await PerfApiRoleAsync(stack);
        var service = Service("loop");
        var m0 = Minute(TimeSpan.FromDays(6));
        var time = new Telemetry.ManualTimeProvider(m0.AddSeconds(5));
        var key = new RollupKey(service, "clients", "SELECT", "find", true);
        var source = new ListSource(Enumerable.Range(0, 3).Select(i => new MinuteRollup(m0.AddMinutes(i), key, Histogram([0.001, 0.002]), 0)));
        var counters = new HistoryCounters();
        var writer = new HistoryWriter(
            db, source, Options.Create(new HistoryOptions { FlushInterval = TimeSpan.FromSeconds(1), Grace = TimeSpan.FromSeconds(30) }),
            counters, time, NullLogger<HistoryWriter>.Instance);
        await writer.StartAsync(CancellationToken.None);
        try
        {
            // 20 s after minute 0 ended it is still open for late exports: the loop runs (its clock is this one) and
            // leaves it in memory.
            time.Advance(TimeSpan.FromSeconds(75));
            var passes = writer.Passes;
            await Eventually.ThatAsync(() => Task.FromResult(writer.Passes >= passes + 2), TimeSpan.FromSeconds(15), "a whole pass of the loop at 01:15");
            Assert.Empty(await RowsAsync(stack, service));
            Assert.Equal(m0, writer.PersistedBefore);

            // 31 s after: minute 0 is written, minutes 1 and 2 (still open) are not.
            time.Advance(TimeSpan.FromSeconds(11));
            await Eventually.ThatAsync(() => Task.FromResult(writer.PersistedBefore == m0.AddMinutes(1)), TimeSpan.FromSeconds(15), "minute 0 written");
            Assert.Equal([(m0, 2L)], await RowsAsync(stack, service));
            Assert.Equal((0L, 1L), (counters.Snapshot().WriteFailures, counters.Snapshot().RowsWritten));
        }
        finally
        {
            await writer.StopAsync(CancellationToken.None);
        }

        // Shutdown takes the open minutes too: nothing the store held is lost.
        Assert.Equal([(m0, 2L), (m0.AddMinutes(1), 2L), (m0.AddMinutes(2), 2L)], await RowsAsync(stack, service));
    }
}
