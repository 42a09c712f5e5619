using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Npgsql;
using Xunit.Abstractions;

namespace NexusCore.AppHost.Tests.Reliability;

[Collection(FaultCollection.Name)]
public sealed class FaultTests(FaultStack stack, ITestOutputHelper output)
{
    private HttpClient Writer => stack.CreateClient("clients-api", "writer");
    private HttpClient Reader => stack.CreateClient("clients-api", "reader");

    /// <summary>Limits are per key, not per role: a second reader key is served while the first is over its limit.</summary>
    [Theory]
    [InlineData("clients-api", "/api/v1/optimized/clients/dashboard")]
    [InlineData("perf-api", "/api/v1/performance/metrics")]
    public async Task ACallerOverItsRateLimitGets429WithRetryAfterWhileAnotherKeyOfTheSameRoleIsServed(string service, string route)
    {
        var caller = stack.CreateClient(service, "reader");
        var second = stack.CreateClient(service, StackFixture.SecondReaderKey);
        var responses = await Task.WhenAll(Enumerable.Range(0, 3 * FaultStack.PerKeyPermitsPerSecond)
            .Select(_ => caller.GetAsync(route)));

        // The bucket refills every second, possibly while the burst was answered: spend what came back until
        // the caller is refused again, then ask at once with the second key, which its own bucket serves.
        HttpResponseMessage again;
        var spent = 0;
        do
        {
            again = await caller.GetAsync(route);
        }
        while (again.StatusCode != HttpStatusCode.TooManyRequests && ++spent <= 2 * FaultStack.PerKeyPermitsPerSecond);
        var other = await second.GetAsync(route);

        var limited = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(limited);
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, r.StatusCode.ToString()));
        var problem = await Problem.ReadAsync(limited[0], HttpStatusCode.TooManyRequests);
        Assert.Equal("https://nexuscore.dev/problems/rate-limited", problem.Type);
        Assert.True(limited[0].Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.TooManyRequests, again.StatusCode);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task ExportHasItsOwnStricterLimit()
    {
        var admin = stack.CreateClient("clients-api", "admin");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            statuses.Add((await admin.GetAsync("/api/v1/optimized/clients/bulk-export?createdFrom=1900-01-01&createdTo=1900-01-02")).StatusCode);
        }

        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.Equal(HttpStatusCode.OK, statuses[0]);
    }

    [Fact]
    public async Task WithTheReadPoolExhaustedFurtherReadsGet503WithRetryAfterWithinTheAcquireTimeoutAndThePoolRecovers()
    {
        var ids = await InsertClientsAsync(FaultStack.PoolSize + 2);

        await using var locked = await ClientsLock.LockAsync(stack.ClientsDb);

        // Every pooled read connection blocks behind the lock, as slow queries would.
        var reader = Reader;
        var blocked = ids.Take(FaultStack.PoolSize).Select(id => reader.GetAsync($"/api/v1/clients/{id}")).ToList();
        await WaitUntilAsync(async () => await WaitingOnLocksAsync() >= FaultStack.PoolSize, TimeSpan.FromSeconds(20));

        var clock = Stopwatch.StartNew();
        var refused = await reader.GetAsync($"/api/v1/clients/{ids[^1]}");
        var elapsed = clock.Elapsed;

        await locked.RollbackAsync();
        var released = await Task.WhenAll(blocked);
        var after = await reader.GetAsync($"/api/v1/clients/{ids[^2]}");

        output.WriteLine($"Read pool of {FaultStack.PoolSize} exhausted: read refused in {elapsed.TotalMilliseconds:0} ms");
        Assert.Null((await Problem.ReadAsync(refused, HttpStatusCode.ServiceUnavailable)).Outcome);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"503 after {elapsed}");

        // The requests stuck behind the lock end either way, never with a 500: served once it is
        // released, or 503 when their read outlived the cache's hard timeout.
        Assert.All(released, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, r.StatusCode.ToString()));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task WithTheWritePoolExhaustedWritesGet503WithinTheAcquireTimeoutWhileReadsAreServedAndNothingIsWritten()
    {
        var ids = await InsertClientsAsync(FaultStack.WritePoolSize + 1);

        // Row locks on the clients the writes target: reads of any client go on (MVCC), the writes wait.
        await using var locker = await stack.ClientsDb.OpenConnectionAsync();
        await using var transaction = await locker.BeginTransactionAsync();
        await using (var lockRows = new NpgsqlCommand("SELECT id FROM clients WHERE id = ANY($1) FOR UPDATE", locker, transaction))
        {
            lockRows.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = ids.Take(FaultStack.WritePoolSize).ToArray() });
            await lockRows.ExecuteNonQueryAsync();
        }

        var writer = Writer;
        var blocked = ids.Take(FaultStack.WritePoolSize)
            .Select(id => writer.PatchAsJsonAsync($"/api/v1/clients/{id}", new { name = "Waited" }))
            .ToList();
        await WaitUntilAsync(async () => await WaitingOnLocksAsync() >= FaultStack.WritePoolSize, TimeSpan.FromSeconds(20));

        var email = $"pool.{Guid.NewGuid():N}@example.com";
        var clock = Stopwatch.StartNew();
        var refused = await writer.PostAsJsonAsync("/api/v1/clients", new { name = "Pool Full", email, programType = "PRIME" });
        var writeElapsed = clock.Elapsed;
        clock.Restart();
        var read = await Reader.GetAsync($"/api/v1/clients/{ids[^1]}");
        var readElapsed = clock.Elapsed;

        await transaction.RollbackAsync();
        var released = await Task.WhenAll(blocked);
        var after = await writer.PostAsJsonAsync("/api/v1/clients", new { name = "Pool Free", email = $"pool.{Guid.NewGuid():N}@example.com", programType = "PRIME" });

        output.WriteLine($"Write pool of {FaultStack.WritePoolSize} exhausted: write refused in {writeElapsed.TotalMilliseconds:0} ms, a read meanwhile answered {(int)read.StatusCode} in {readElapsed.TotalMilliseconds:0} ms");
        var problem = await Problem.ReadAsync(refused, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("not_applied", problem.Outcome);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.True(writeElapsed < TimeSpan.FromSeconds(5), $"503 after {writeElapsed}");
        Assert.Equal(0, (await CountByEmailAsync([email])).GetValueOrDefault(email));

        // Reads have their own pool: a full write pool does not hold them back.
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.True(readElapsed < TimeSpan.FromSeconds(1), $"read took {readElapsed}");

        Assert.All(released, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(HttpStatusCode.Created, after.StatusCode);
    }

    [Fact]
    public async Task APatchCutOffByFrozenPostgresBackendsIsAnswered503OutcomeUnknownAndIsIndeedAppliedWhenTheyResume()
    {
        var id = await InsertClientAsync();
        var (cutOff, elapsed, _) = await WriteToFrozenBackendsAsync(id, writer => writer.PatchAsJsonAsync($"/api/v1/clients/{id}", new { name = "Frozen" }));

        output.WriteLine($"A PATCH to frozen Postgres backends answered {(int)cutOff.StatusCode} after {elapsed.TotalSeconds:0.0} s");
        var problem = await Problem.ReadAsync(cutOff, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("unknown", problem.Outcome);
        Assert.True(cutOff.Headers.RetryAfter?.Delta > TimeSpan.Zero);

        // Why "unknown": resumed, the backend runs the UPDATE it had received, in autocommit, and it is
        // committed after the 503 was sent.
        await WaitUntilAsync(async () => await NameAndVersionAsync(id) == "Frozen v3", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task ABatchCutOffByFrozenPostgresBackendsIsAnswered503NotAppliedAndIsRolledBackWhenTheyResume()
    {
        var id = await InsertClientAsync();
        var (cutOff, elapsed, backends) = await WriteToFrozenBackendsAsync(id, writer => writer.PostAsJsonAsync(
            "/api/v1/optimized/clients/batch", new { items = new[] { new { op = "update", id, name = "Frozen" } } }));

        output.WriteLine($"A batch to frozen Postgres backends answered {(int)cutOff.StatusCode} after {elapsed.TotalSeconds:0.0} s");
        var problem = await Problem.ReadAsync(cutOff, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("not_applied", problem.Outcome);

        // Resumed, the backend runs the UPDATE it had received inside the batch's transaction, finds
        // its client gone before any COMMIT came, rolls the transaction back and exits.
        await WaitUntilAsync(async () => (await ClientBackendsAsync()).Count(backends.Contains) < backends.Count, TimeSpan.FromSeconds(30));
        Assert.Equal("Before v2", await NameAndVersionAsync(id));
    }

    /// <summary>
    /// Renames the client "Before" (which also leaves an idle connection in the write pool, so the next
    /// write reaches a Postgres backend rather than failing to connect), then freezes every backend
    /// (the postmaster runs) and sends <paramref name="write"/>. Its statement reaches its backend's
    /// socket and nothing answers; the query timeout (10 s here) ends the wait. Npgsql's cancel request
    /// reaches the frozen backend as a pending signal, which a backend resumed while waiting for a
    /// command ignores; Npgsql breaks the connection and ClientsApi answers. Also returns the client
    /// backends there were just before the freeze.
    /// </summary>
    private async Task<(HttpResponseMessage Response, TimeSpan Elapsed, List<int> Backends)> WriteToFrozenBackendsAsync(
        long id, Func<HttpClient, Task<HttpResponseMessage>> write)
    {
        var writer = Writer;
        Assert.Equal(HttpStatusCode.OK, (await writer.PatchAsJsonAsync($"/api/v1/clients/{id}", new { name = "Before" })).StatusCode);
        var backends = await ClientBackendsAsync();
        var clock = Stopwatch.StartNew();
        await using (await stack.FreezeResourceAsync("postgres", rootKeepsRunning: true))
        {
            return (await write(writer), clock.Elapsed, backends);
        }
    }

    private async Task<string?> NameAndVersionAsync(long id)
    {
        await using var row = stack.ClientsDb.CreateCommand("SELECT name || ' v' || version FROM clients WHERE id = $1");
        row.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        return (string?)await row.ExecuteScalarAsync();
    }

    [Theory]
    [InlineData("INSERT")]
    [InlineData("UPDATE")]
    public async Task AWriteWhoseCommitFailsAfterItsReturningRowIsNotAcknowledgedAndIts503SaysTheOutcomeIsUnknown(string operation)
    {
        var id = await InsertClientAsync();
        var email = $"slow.commit.{Guid.NewGuid():N}@example.com";

        // A deferred trigger, for this one name only, that runs at COMMIT (in autocommit: after the
        // statement has produced its RETURNING row) and outlasts the query timeout (10 s here): the
        // commit is cancelled and fails. Before 2026-11-27 ClientsApi answered 201 or 200 with the row.
        await ExecuteAsync($"""
            CREATE FUNCTION fault_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(60); RETURN NULL; END $$;
            CREATE CONSTRAINT TRIGGER slow_commit AFTER {operation} ON clients DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW WHEN (NEW.name = 'Slow Commit') EXECUTE FUNCTION fault_slow_commit();
            """);
        HttpResponseMessage unanswered;
        var clock = Stopwatch.StartNew();
        try
        {
            unanswered = operation == "INSERT"
                ? await Writer.PostAsJsonAsync("/api/v1/clients", new { name = "Slow Commit", email, programType = "PRIME" })
                : await Writer.PatchAsJsonAsync($"/api/v1/clients/{id}", new { name = "Slow Commit" });
        }
        finally
        {
            await ExecuteAsync("DROP TRIGGER slow_commit ON clients; DROP FUNCTION fault_slow_commit();");
        }

        output.WriteLine($"An {operation} whose commit failed after its row: {(int)unanswered.StatusCode} after {clock.Elapsed.TotalSeconds:0.0} s");
        var problem = await Problem.ReadAsync(unanswered, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("unknown", problem.Outcome);
        Assert.Contains("may or may not have been applied", problem.Detail);
        Assert.Equal("Fault v1", await NameAndVersionAsync(id));
        Assert.Empty(await CountByEmailAsync([email]));
    }

    [Fact]
    public async Task APostgresRestartUnderLoadLosesAndDuplicatesNoAcknowledgedWriteAndReadsRecoverWithinFiveSeconds()
    {
        var acknowledged = new ConcurrentBag<string>();
        var batches = new ConcurrentBag<(string Key, string[] Emails)>();
        var reads = new ConcurrentQueue<(DateTime At, HttpStatusCode Status)>();
        var serverErrors = new ConcurrentBag<HttpStatusCode>();
        var requests = 0;
        using var stop = new CancellationTokenSource();
        var writer = Writer;
        var reader = Reader;

        var load = new[]
        {
            Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var email = $"restart.{Guid.NewGuid():N}@example.com";
                    var response = await TryAsync(() => writer.PostAsJsonAsync("/api/v1/clients", new { name = "Restart", email, programType = "PRIME" }));
                    Interlocked.Increment(ref requests);
                    Record(response, serverErrors);
                    if (response?.StatusCode == HttpStatusCode.Created)
                    {
                        acknowledged.Add(email);
                    }
                }
            }),
            Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    // A client that retries a batch with its Idempotency-Key until it is acknowledged.
                    var key = Guid.NewGuid().ToString();
                    var emails = Enumerable.Range(0, 20).Select(_ => $"restart.batch.{Guid.NewGuid():N}@example.com").ToArray();
                    var body = new { items = emails.Select(e => new { op = "create", name = "Restart Batch", email = e, programType = "LONGEVITY" }) };
                    while (true)
                    {
                        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/optimized/clients/batch") { Content = JsonContent.Create(body) };
                        request.Headers.Add("Idempotency-Key", key);
                        var response = await TryAsync(() => writer.SendAsync(request));
                        Interlocked.Increment(ref requests);
                        Record(response, serverErrors);
                        if (response?.StatusCode == HttpStatusCode.OK)
                        {
                            batches.Add((key, emails));
                            break;
                        }

                        await Task.Delay(100);
                    }
                }
            }),
            Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    // A fresh query each time: always a cache miss, so it needs Postgres.
                    var response = await TryAsync(() => reader.GetAsync($"/api/v1/optimized/clients/search/advanced?q=r{Guid.NewGuid():N}"));
                    Interlocked.Increment(ref requests);
                    Record(response, serverErrors);
                    reads.Enqueue((DateTime.UtcNow, response?.StatusCode ?? 0));
                    await Task.Delay(20);
                }
            }),
        };

        await WaitUntilAsync(() => Task.FromResult(acknowledged.Count > 20 && batches.Count > 2), TimeSpan.FromSeconds(30));
        await FastShutdownPostgresAsync();
        await stack.StartResourceAsync("postgres");
        var back = DateTime.UtcNow;
        await WaitUntilAsync(() => Task.FromResult(reads.Any(r => r.At > back && r.Status == HttpStatusCode.OK)), TimeSpan.FromSeconds(30));
        var recovered = reads.First(r => r.At > back && r.Status == HttpStatusCode.OK).At - back;
        await WaitUntilAsync(() => Task.FromResult(batches.Count > 6), TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.DoesNotContain(serverErrors, s => s != HttpStatusCode.ServiceUnavailable);
        Assert.True(recovered < TimeSpan.FromSeconds(5), $"reads recovered {recovered} after Postgres was back");
        var stored = await CountByEmailAsync(acknowledged.Concat(batches.SelectMany(b => b.Emails)).ToArray());
        var expected = acknowledged.Count + batches.Sum(b => b.Emails.Length);
        output.WriteLine(
            $"Postgres restart under load: {requests} requests, {serverErrors.Count} answered 503 (other 5xx: {serverErrors.Count(s => s != HttpStatusCode.ServiceUnavailable)}), " +
            $"{acknowledged.Count} creates and {batches.Count} batches acknowledged ({expected} rows), lost {expected - stored.Count}, " +
            $"duplicated {stored.Values.Count(n => n > 1)}, reads back {recovered.TotalMilliseconds:0} ms after Postgres");
        Assert.Equal(expected, stored.Count);
        Assert.All(stored.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task AnApiKilledMidBatchLeavesNothingAndTheSameBatchRetriedWithItsKeyWritesEachRowOnce()
    {
        var key = Guid.NewGuid().ToString();
        var emails = Enumerable.Range(0, 500).Select(_ => $"killed.{Guid.NewGuid():N}@example.com").ToArray();
        var body = new { items = emails.Select(e => new { op = "create", name = "Killed Batch", email = e, programType = "PRIME" }) };

        await using var locked = await ClientsLock.LockAsync(stack.ClientsDb, "SHARE");

        var inFlight = SendBatchAsync(Writer, body, key);
        await WaitUntilAsync(async () => await WaitingOnLocksAsync() >= 1, TimeSpan.FromSeconds(20));
        await stack.KillResourceAsync("clients-api");
        await locked.RollbackAsync();
        var killed = await TryAsync(() => inFlight);
        await stack.StartResourceAsync("clients-api");

        HttpResponseMessage? retried = null;
        await WaitUntilAsync(async () =>
        {
            // 409 while Postgres rolls back the dead request's transaction; then the retry runs. A refused
            // connection (the restarted API not listening yet) is retried too.
            retried = await TryAsync(() => SendBatchAsync(Writer, body, key));
            return retried is not null && retried.StatusCode != HttpStatusCode.Conflict;
        }, TimeSpan.FromSeconds(30));
        var replayed = await SendBatchAsync(Writer, body, key);

        output.WriteLine($"API killed mid-batch: {emails.Length} rows retried with one key, stored {(await CountByEmailAsync(emails)).Count}");
        Assert.True(killed is null || (int)killed.StatusCode >= 500, "the killed request was not acknowledged");
        Assert.Equal(HttpStatusCode.OK, retried!.StatusCode);
        Assert.Equal("true", replayed.Headers.GetValues("Idempotent-Replayed").Single());
        var stored = await CountByEmailAsync(emails);
        Assert.Equal(emails.Length, stored.Count);
        Assert.All(stored.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task RedisKilledUnderLoadCausesNo5xxAndTheBackplaneResubscribesWhenItReturns()
    {
        var statuses = new ConcurrentBag<HttpStatusCode>();
        using var stop = new CancellationTokenSource();
        var writer = Writer;
        var reader = Reader;
        var ids = await InsertClientsAsync(10);

        // One sequential loop, so the last acknowledged rename of each client is what the database must hold.
        var acknowledged = new ConcurrentDictionary<long, string>();
        var load = Task.Run(async () =>
        {
            var random = new Random(3);
            while (!stop.IsCancellationRequested)
            {
                statuses.Add((await reader.GetAsync($"/api/v1/clients/{ids[random.Next(ids.Count)]}")).StatusCode);
                var (id, name) = (ids[random.Next(ids.Count)], $"Redis {random.Next()}");
                var patched = await writer.PatchAsJsonAsync($"/api/v1/clients/{id}", new { name });
                statuses.Add(patched.StatusCode);
                if (patched.IsSuccessStatusCode)
                {
                    acknowledged[id] = name;
                }

                await Task.Delay(10);
            }
        });

        await WaitUntilAsync(() => Task.FromResult(statuses.Count > 50), TimeSpan.FromSeconds(20));
        await stack.KillResourceAsync("cache");
        var during = statuses.Count;
        await WaitUntilAsync(() => Task.FromResult(statuses.Count > during + 50), TimeSpan.FromSeconds(30));
        await stack.StartResourceAsync("cache");
        await WaitUntilAsync(async () => (await RedisAsync("PUBSUB", "CHANNELS", "*")).Trim().Length > 0, TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await load;

        // Hits come back: repeated reads of one client are served from the cache, and entries reach Redis (L2) again.
        // A client the load never renamed (the load's last writes are invalidated once more a second later), read
        // with the admin key (the load may have spent the reader key's rate limit): one miss, then hits.
        var untouched = await InsertClientAsync();
        var admin = stack.CreateClient("clients-api", "admin");
        var cacheOutcomes = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            var response = await admin.GetAsync($"/api/v1/clients/{untouched}");
            cacheOutcomes.Add(response.Headers.TryGetValues("X-Cache", out var values) ? values.Single() : "none");
        }

        await WaitUntilAsync(async () => long.Parse((await RedisAsync("DBSIZE")).Trim(), System.Globalization.CultureInfo.InvariantCulture) > 0, TimeSpan.FromSeconds(10));
        var lost = 0;
        foreach (var (id, name) in acknowledged)
        {
            await using var command = stack.ClientsDb.CreateCommand("SELECT name FROM clients WHERE id = $1");
            command.Parameters.AddWithValue(id);
            lost += (string?)await command.ExecuteScalarAsync() == name ? 0 : 1;
        }

        var hits = cacheOutcomes.Count(o => o == "HIT");
        output.WriteLine($"Redis killed under load: {statuses.Count} requests, 5xx {statuses.Count(s => (int)s >= 500)}, acknowledged renames lost {lost} of {acknowledged.Count} clients, {hits} of {cacheOutcomes.Count} reads hit after the restart");
        Assert.DoesNotContain(statuses, s => (int)s >= 500);
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, s.ToString()));
        Assert.Equal(0, lost);
        Assert.True(hits >= cacheOutcomes.Count - 1, string.Join(",", cacheOutcomes));
    }

    private static void Record(HttpResponseMessage? response, ConcurrentBag<HttpStatusCode> serverErrors)
    {
        if (response is not null && (int)response.StatusCode >= 500)
        {
            serverErrors.Add(response.StatusCode);
        }
    }

    private static Task<HttpResponseMessage> SendBatchAsync(HttpClient client, object body, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/optimized/clients/batch") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        return client.SendAsync(request);
    }

    /// <summary>A request whose connection dies (the API killed) counts as no answer, not as a test failure.</summary>
    private static async Task<HttpResponseMessage?> TryAsync(Func<Task<HttpResponseMessage>> send)
    {
        try
        {
            return await send();
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private async Task<List<long>> InsertClientsAsync(int count)
    {
        var ids = new List<long>(count);
        for (var i = 0; i < count; i++)
        {
            ids.Add(await InsertClientAsync());
        }

        return ids;
    }

    private async Task<long> InsertClientAsync()
    {
        await using var command = stack.ClientsDb.CreateCommand("INSERT INTO clients (name, email, program_type) VALUES ('Fault', $1, 'PRIME') RETURNING id");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"fault.{Guid.NewGuid():N}@example.com" });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = stack.ClientsDb.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The process ids of the client backends connected to the database, but the one asking.</summary>
    private async Task<List<int>> ClientBackendsAsync()
    {
        await using var command = stack.ClientsDb.CreateCommand(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()");
        await using var reader = await command.ExecuteReaderAsync();
        var pids = new List<int>();
        while (await reader.ReadAsync())
        {
            pids.Add(reader.GetInt32(0));
        }

        return pids;
    }

    private async Task<long> WaitingOnLocksAsync()
    {
        await using var command = stack.ClientsDb.CreateCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<Dictionary<string, long>> CountByEmailAsync(string[] emails)
    {
        await using var command = stack.ClientsDb.CreateCommand("SELECT email, count(*) FROM clients WHERE email = ANY($1) GROUP BY email");
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = emails });
        await using var reader = await command.ExecuteReaderAsync();
        var counts = new Dictionary<string, long>();
        while (await reader.ReadAsync())
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }

    /// <summary>pg_ctl's "fast" shutdown (clients disconnected, open transactions rolled back), as an operator restarting the server would.</summary>
    private async Task FastShutdownPostgresAsync()
    {
        await using var command = stack.ClientsDb.CreateCommand("SHOW data_directory");
        var dataDirectory = (string)(await command.ExecuteScalarAsync())!;
        var pgCtl = Directory.GetFiles("/usr/lib/postgresql", "pg_ctl", SearchOption.AllDirectories).Order().First();
        var root = Environment.IsPrivilegedProcess;
        var startInfo = new ProcessStartInfo(root ? "setpriv" : pgCtl)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (root)
        {
            foreach (var arg in new[] { "--reuid=postgres", "--regid=postgres", "--init-groups", "--", pgCtl })
            {
                startInfo.ArgumentList.Add(arg);
            }
        }

        foreach (var arg in new[] { "stop", "-D", dataDirectory, "-m", "fast", "-w" })
        {
            startInfo.ArgumentList.Add(arg);
        }

        using var process = Process.Start(startInfo)!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(deadline.Token);
        Assert.True(process.ExitCode == 0, await process.StandardError.ReadToEndAsync());
        await stack.App.ResourceNotifications.WaitForResourceAsync(
            "postgres", e => Aspire.Hosting.ApplicationModel.KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), deadline.Token);
    }

    private async Task<string> RedisAsync(params string[] command)
    {
        var connection = await stack.ConnectionStringAsync("cache");
        var parts = connection.Split(',');
        var (host, port) = (parts[0].Split(':')[0], parts[0].Split(':')[1]);
        var password = parts.First(p => p.StartsWith("password=", StringComparison.Ordinal))["password=".Length..];
        var startInfo = new ProcessStartInfo("redis-cli", ["-h", host, "-p", port, "--no-auth-warning", "-a", password, .. command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(startInfo)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }

    private static Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan limit) =>
        Eventually.ThatAsync(condition, limit, every: TimeSpan.FromMilliseconds(50));
}
