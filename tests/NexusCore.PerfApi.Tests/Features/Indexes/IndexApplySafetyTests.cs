using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace NexusCore.PerfApi.Tests.Features.Indexes;

/// <summary>
/// Applying is safe under real contention: a transaction that wrote to the table and stays open makes
/// <c>CREATE INDEX CONCURRENTLY</c> wait (it must wait for writers), which is where its lock timeout applies.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class IndexApplySafetyTests(PerfApiStack stack)
{
    private readonly PerfApiClient _reader = new(stack);
    private readonly PerfApiClient _admin = new(stack, "admin");

    [Fact]
    public async Task ABuildWaitingForAWriterBlocksNoWritesRefusesASecondApplyAndALockTimeoutLeavesNoInvalidIndex()
    {
        await using var table = await TestTable.CreateAsync(stack, "ix_adv_safety", 200_000);
        await table.RunAsync($"SELECT id FROM {table.Name} WHERE lookup = $1", Enumerable.Range(1, 10).Select(i => new[] { TestTable.Lookup(i) }));
        await table.RunAsync($"SELECT id FROM {table.Name} WHERE other = $1", Enumerable.Range(1, 10).Select(i => new[] { TestTable.Other(i) }));
        var page = await _reader.RefreshedIndexesAsync();
        var advice = page.Items("recommendations").Where(r => r.Text("table") == table.Name).ToDictionary(r => r.Strings("columns").Single(), r => r.Text("apply"));
        Assert.Equal(["lookup", "other"], advice.Keys.Order());

        await using var db = await ClientsDb.OpenAsync(stack, "index-apply-safety");
        await using (var writer = await OpenWriterAsync(db, table))
        {
            var first = _admin.PostAsync(advice["lookup"], new { lockTimeoutSeconds = 60 });
            await WaitForAdvisorAsync(db, "CREATE INDEX CONCURRENTLY%", waitingOnLock: true);

            // Writes go on while the build waits, and a second build is refused while this one runs.
            var insert = Stopwatch.StartNew();
            await table.ExecuteAsync($"INSERT INTO {table.Name} (lookup, other, code, pad) VALUES (-1, -1, -1, 'during the build')");
            Assert.True(insert.Elapsed < TimeSpan.FromSeconds(2), $"the insert took {insert.Elapsed}");
            var second = await _admin.Http.PostAsync(advice["other"], null);
            var secondBody = await second.Content.ReadAsStringAsync();
            await Problem.ReadAsync(second, HttpStatusCode.Conflict);
            Assert.Contains("index_build_running", secondBody, StringComparison.Ordinal);

            await writer.CommitAsync();
            var (status, applied) = await first;
            Assert.True(status == HttpStatusCode.OK, applied.ToString());
            Assert.Equal("succeeded", applied.Text("status"));
            Assert.True(await table.IndexValidAsync($"ix_{table.Name}_lookup"));
        }

        await using (var writer = await OpenWriterAsync(db, table))
        {
            var timedOut = _admin.Http.PostAsJsonAsync(advice["other"], new { lockTimeoutSeconds = 0.5 });

            // The build gave up waiting; the index it had registered is invalid, and its clean-up waits for the writer.
            await WaitForAdvisorAsync(db, "DROP INDEX CONCURRENTLY%", waitingOnLock: true);
            Assert.False(await table.IndexValidAsync($"ix_{table.Name}_other"));

            await writer.RollbackAsync();
            var response = await timedOut;
            var body = await response.Content.ReadAsStringAsync();
            await Problem.ReadAsync(response, HttpStatusCode.ServiceUnavailable);
            var problem = JsonDocument.Parse(body).RootElement;
            Assert.Equal("lock_timeout", problem.Text("code"));
            Assert.StartsWith("dropped the invalid index", problem.Text("cleanup"), StringComparison.Ordinal);
            Assert.Null(await table.IndexValidAsync($"ix_{table.Name}_other"));

            var application = await _reader.GetAsync($"/api/v1/performance/indexes/applications/{problem.Text("applicationId")}");
            Assert.Equal(("failed", "55P03"), (application.Text("status"), application.Text("errorCode")));
        }

        // Not built, so still advised.
        var again = await _reader.RefreshedIndexesAsync();
        Assert.Equal(["other"], again.Items("recommendations").Where(r => r.Text("table") == table.Name).Select(r => r.Strings("columns").Single()));
    }

    /// <summary>A transaction that inserted into the table and stays open until committed, rolled back or disposed.</summary>
    private static async Task<Writer> OpenWriterAsync(NpgsqlDataSource db, TestTable table)
    {
        var connection = await db.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand($"INSERT INTO {table.Name} (lookup, other, code, pad) VALUES (-2, -2, -2, 'open writer')", connection, transaction);
        await command.ExecuteNonQueryAsync();
        return new Writer(connection, transaction);
    }

    /// <summary>Waits until the advisor's own session runs a statement like <paramref name="pattern"/> (waiting on a lock, if asked).</summary>
    private static async Task WaitForAdvisorAsync(NpgsqlDataSource db, string pattern, bool waitingOnLock)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            await using var command = db.CreateCommand("""
                SELECT count(*) FROM pg_stat_activity
                WHERE application_name = 'nexuscore-index-advisor' AND state = 'active' AND query LIKE $1 AND (NOT $2 OR wait_event_type = 'Lock')
                """);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = pattern });
            command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = waitingOnLock });
            if ((long)(await command.ExecuteScalarAsync())! > 0)
            {
                return;
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), $"Timed out waiting for the advisor to run {pattern}.");
            await Task.Delay(50);
        }
    }

    private sealed class Writer(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public Task CommitAsync() => transaction.CommitAsync();

        public Task RollbackAsync() => transaction.RollbackAsync();

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}
