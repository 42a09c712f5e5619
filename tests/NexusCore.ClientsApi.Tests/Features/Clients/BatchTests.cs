using System.Net;

namespace NexusCore.ClientsApi.Tests.Features.Clients;

[Collection(StackCollection.Name)]
public sealed class BatchTests(ClientsApiStack stack)
{
    private readonly ClientsApiDriver _api = new(stack);

    [Fact]
    public async Task AnAtomicBatchAppliesEveryKindOfOperation()
    {
        var updated = await _api.CreateOkAsync("To Update", ClientsApiDriver.UniqueEmail());
        var deleted = await _api.CreateOkAsync("To Delete", ClientsApiDriver.UniqueEmail());
        var upserted = await _api.CreateOkAsync("To Upsert", ClientsApiDriver.UniqueEmail());
        var newEmail = ClientsApiDriver.UniqueEmail("new");

        var result = await ClientsApiDriver.ReadAsync<BatchDto>(await _api.BatchAsync(new
        {
            items = new object[]
            {
                new { op = "create", name = "Batch New", email = newEmail, programType = "LONGEVITY" },
                new { op = "update", id = updated.Id, status = "pending" },
                new { op = "delete", id = deleted.Id },
                new { op = "upsert", name = "Upserted", email = upserted.Email.ToUpperInvariant(), programType = "PERFORMANCE", status = "inactive" },
            },
        }));

        Assert.Equal(("atomic", 4, 0), (result.Mode, result.Succeeded, result.Failed));
        Assert.Equal([201, 200, 204, 200], result.Items.Select(i => i.Status));
        Assert.Equal([updated.Id, deleted.Id, upserted.Id], result.Items.Skip(1).Select(i => i.Id!.Value));
        var created = await ClientsApiDriver.ReadAsync<ClientDto>(await _api.Http.GetAsync($"/api/v1/clients/{result.Items[0].Id}"));
        Assert.Equal(("Batch New", newEmail, "LONGEVITY", "active"), (created.Name, created.Email, created.ProgramType, created.Status));
        Assert.Equal("pending", (await ClientsApiDriver.ReadAsync<ClientDto>(await _api.Http.GetAsync($"/api/v1/clients/{updated.Id}"))).Status);
        Assert.Equal(0, await _api.CountByEmailAsync(deleted.Email));
        var replaced = await ClientsApiDriver.ReadAsync<ClientDto>(await _api.Http.GetAsync($"/api/v1/clients/{upserted.Id}"));
        Assert.Equal(("Upserted", "PERFORMANCE", "inactive", 2), (replaced.Name, replaced.ProgramType, replaced.Status, replaced.Version));
    }

    [Fact]
    public async Task AnAtomicBatchWithOneInvalidItemIs400NamingItAndWritesNothing()
    {
        var emails = Enumerable.Range(0, 5).Select(_ => ClientsApiDriver.UniqueEmail("atomic")).ToList();
        var items = emails.Select((email, i) => new { op = "create", name = i == 3 ? "" : "Atomic", email, programType = "PRIME" }).ToList();

        var response = await _api.BatchAsync(new { mode = "atomic", items });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal([("items[3].name", "name_required")], problem.Errors.Select(e => (e.Name, e.Code)));
        foreach (var email in emails)
        {
            Assert.Equal(0, await _api.CountByEmailAsync(email));
        }
    }

    [Fact]
    public async Task AnAtomicBatchWhoseItemHitsATakenEmailIs409AndRollsBackTheOthers()
    {
        var taken = await _api.CreateOkAsync("Taken", ClientsApiDriver.UniqueEmail());
        var victim = await _api.CreateOkAsync("Survivor", ClientsApiDriver.UniqueEmail());
        var fresh = ClientsApiDriver.UniqueEmail("fresh");

        var response = await _api.BatchAsync(new
        {
            items = new object[]
            {
                new { op = "create", name = "Fresh", email = fresh, programType = "PRIME" },
                new { op = "delete", id = victim.Id },
                new { op = "create", name = "Clash", email = taken.Email, programType = "PRIME" },
            },
        });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.Conflict);
        Assert.Equal([("items[2].email", "email_taken")], problem.Errors.Select(e => (e.Name, e.Code)));
        Assert.Equal(0, await _api.CountByEmailAsync(fresh));
        Assert.Equal(1, await _api.CountByEmailAsync(victim.Email));
    }

    [Fact]
    public async Task APerItemBatchReportsEachItemsOwnOutcome()
    {
        var taken = await _api.CreateOkAsync("Taken", ClientsApiDriver.UniqueEmail());
        var good = ClientsApiDriver.UniqueEmail("good");

        var result = await ClientsApiDriver.ReadAsync<BatchDto>(await _api.BatchAsync(new
        {
            mode = "perItem",
            items = new object[]
            {
                new { op = "create", name = "Good", email = good, programType = "PRIME" },
                new { op = "create", name = "Clash", email = taken.Email, programType = "PRIME" },
                new { op = "delete", id = long.MaxValue },
                new { op = "update", id = taken.Id },
                new { op = "create", name = "Bad Program", email = ClientsApiDriver.UniqueEmail(), programType = "GOLD" },
            },
        }));

        Assert.Equal(("perItem", 1, 4), (result.Mode, result.Succeeded, result.Failed));
        Assert.Equal([201, 409, 404, 400, 400], result.Items.Select(i => i.Status));
        Assert.Equal("email_taken", result.Items[1].Problem!.Errors.Single().Code);
        Assert.Equal("not_found", result.Items[2].Problem!.Errors.Single().Code);
        Assert.Equal("empty_update", result.Items[3].Problem!.Errors.Single().Code);
        Assert.Equal("program_type_unknown", result.Items[4].Problem!.Errors.Single().Code);
        Assert.Equal(1, await _api.CountByEmailAsync(good));
    }

    [Fact]
    public async Task AnEmailAConcurrentWriterTakesMidBatchIsReportedAndTheOthersAreWritten()
    {
        // A writer inserts the email but has not committed: the batch's insert waits on the unique index
        // until that writer commits, then skips the row (ON CONFLICT DO NOTHING): no error, so Postgres
        // logs nothing naming the email, and the batch needs no second attempt.
        var contested = ClientsApiDriver.UniqueEmail("contested");
        var others = Enumerable.Range(0, 3).Select(_ => ClientsApiDriver.UniqueEmail("other")).ToList();
        await using var connection = await _api.Db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var insert = new Npgsql.NpgsqlCommand("INSERT INTO clients (name, email, program_type) VALUES ('First', $1, 'PRIME')", connection, transaction))
        {
            insert.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = contested });
            await insert.ExecuteNonQueryAsync();
        }

        var items = others.Prepend(contested).Select(email => new { op = "create", name = "Racer", email, programType = "LONGEVITY" });
        var batch = _api.BatchAsync(new { mode = "perItem", items });
        await Eventually.ThatAsync(async () => (await _api.QueryAsync(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO clients%unnest%'", r => r.GetInt64(0)))[0] == 1,
            TimeSpan.FromSeconds(30), "the batch's insert never waited on the uncommitted email");
        await transaction.CommitAsync();

        var result = await ClientsApiDriver.ReadAsync<BatchDto>(await batch);

        Assert.Equal([409, 201, 201, 201], result.Items.Select(i => i.Status));
        Assert.Equal("email_taken", result.Items[0].Problem!.Errors.Single().Code);
        Assert.Equal(1, await _api.CountByEmailAsync(contested));
        Assert.Equal("First", (await _api.QueryAsync("SELECT name FROM clients WHERE email = $1", r => r.GetString(0), contested)).Single());
        foreach (var email in others)
        {
            Assert.Equal(1, await _api.CountByEmailAsync(email));
        }

        Assert.DoesNotContain(await stack.ConsoleLinesAsync("postgres", TimeSpan.FromSeconds(10)), l => l.Content.Contains(contested, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task AnEmailAConcurrentWriterTakesWhileAnUpdateChecksItIsReportedAfterARetry()
    {
        // The update's check cannot see the uncommitted email; its UPDATE waits on the unique index and
        // fails when the writer commits. The transaction rolls back and runs again, and this time the
        // check sees the email: the item is a 409, the other items are written once.
        var contested = ClientsApiDriver.UniqueEmail("contested");
        var moved = await _api.CreateOkAsync("Mover", ClientsApiDriver.UniqueEmail());
        var fresh = ClientsApiDriver.UniqueEmail("fresh");
        await using var connection = await _api.Db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var insert = new Npgsql.NpgsqlCommand("INSERT INTO clients (name, email, program_type) VALUES ('First', $1, 'PRIME')", connection, transaction))
        {
            insert.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = contested });
            await insert.ExecuteNonQueryAsync();
        }

        var batch = _api.BatchAsync(new
        {
            mode = "perItem",
            items = new object[]
            {
                new { op = "update", id = moved.Id, email = contested },
                new { op = "create", name = "Fresh", email = fresh, programType = "PRIME" },
            },
        });
        await Eventually.ThatAsync(async () => (await _api.QueryAsync(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE clients%unnest%'", r => r.GetInt64(0)))[0] == 1,
            TimeSpan.FromSeconds(30), "the batch's update never waited on the uncommitted email");
        await transaction.CommitAsync();

        var result = await ClientsApiDriver.ReadAsync<BatchDto>(await batch);

        Assert.Equal([409, 201], result.Items.Select(i => i.Status));
        Assert.Equal("email_taken", result.Items[0].Problem!.Errors.Single().Code);
        Assert.Equal(moved.Email, (await _api.QueryAsync("SELECT email FROM clients WHERE id = $1", r => r.GetString(0), moved.Id)).Single());
        Assert.Equal(1, await _api.CountByEmailAsync(fresh));
    }

    [Theory]
    [InlineData("serialization_failure")]
    [InlineData("deadlock_detected")]
    public async Task ATransactionRolledBackByASerializationFailureOrDeadlockIsRetriedAndCommitsOnce(string condition)
    {
        // Postgres itself raises the failure (SQLSTATE 40001 or 40P01) on the batch's first attempt, from a
        // trigger that fires for this test's client alone and counts its calls in a sequence (not rolled back
        // with the transaction). The retry runs the transaction again, which commits: each client once.
        var suffix = Guid.NewGuid().ToString("N");
        var name = $"Retried {suffix}";
        var email = ClientsApiDriver.UniqueEmail("retried");
        var alongside = ClientsApiDriver.UniqueEmail("alongside");
        await _api.ExecuteAsync($"""
            CREATE SEQUENCE batch_retry_{suffix};
            CREATE FUNCTION batch_retry_{suffix}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
            BEGIN
                IF nextval('batch_retry_{suffix}') = 1 THEN
                    RAISE EXCEPTION 'injected by the test' USING ERRCODE = '{condition}';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER batch_retry_{suffix} BEFORE INSERT ON clients FOR EACH ROW WHEN (NEW.name = '{name}') EXECUTE FUNCTION batch_retry_{suffix}();
            """);
        BatchDto result;
        long calls;
        try
        {
            result = await ClientsApiDriver.ReadAsync<BatchDto>(await _api.BatchAsync(new
            {
                items = new object[]
                {
                    new { op = "create", name, email, programType = "PRIME" },
                    new { op = "create", name = "Alongside", email = alongside, programType = "PRIME" },
                },
            }));
            calls = (await _api.QueryAsync($"SELECT last_value FROM batch_retry_{suffix}", r => r.GetInt64(0))).Single();
        }
        finally
        {
            await _api.ExecuteAsync($"DROP TRIGGER batch_retry_{suffix} ON clients; DROP FUNCTION batch_retry_{suffix}(); DROP SEQUENCE batch_retry_{suffix};");
        }

        Assert.Equal(("atomic", 2, 0), (result.Mode, result.Succeeded, result.Failed));
        Assert.Equal([201, 201], result.Items.Select(i => i.Status));
        Assert.Equal(2, calls);
        Assert.Equal(1, await _api.CountByEmailAsync(email));
        Assert.Equal(1, await _api.CountByEmailAsync(alongside));
        Assert.Equal(name, (await _api.QueryAsync("SELECT name FROM clients WHERE id = $1", r => r.GetString(0), result.Items[0].Id!.Value)).Single());
    }

    [Fact]
    public async Task TwoItemsForTheSameClientAreRefused()
    {
        var email = ClientsApiDriver.UniqueEmail();

        var result = await ClientsApiDriver.ReadAsync<BatchDto>(await _api.BatchAsync(new
        {
            mode = "perItem",
            items = new object[]
            {
                new { op = "create", name = "First", email, programType = "PRIME" },
                new { op = "upsert", name = "Second", email = email.ToUpperInvariant(), programType = "PRIME" },
            },
        }));

        Assert.Equal([201, 400], result.Items.Select(i => i.Status));
        Assert.Equal("duplicate_target", result.Items[1].Problem!.Errors.Single().Code);
    }

    [Fact]
    public async Task TwoUpsertsOfOneEmailAsTheDatabaseFoldsItAreA400AndWriteNothing()
    {
        // .NET's invariant lower case keeps 'İ'; Postgres' lower() makes it 'i': the planner sees two emails,
        // the database one. This was a 500 ("ON CONFLICT DO UPDATE command cannot affect row a second time").
        var local = $"dotted.{Guid.NewGuid():N}";
        var response = await _api.BatchAsync(new
        {
            items = new object[]
            {
                new { op = "upsert", name = "Dotted", email = $"\u0130{local}@example.com", programType = "PRIME" },
                new { op = "upsert", name = "Plain", email = $"i{local}@example.com", programType = "PRIME" },
            },
        });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(("items", "duplicate_target"), (problem.Errors.Single().Name, problem.Errors.Single().Code));
        Assert.Equal(0, await _api.CountByEmailAsync($"i{local}@example.com"));
    }

    [Fact]
    public async Task ARetryWithTheSameIdempotencyKeyReplaysTheFirstAnswerAndWritesOnce()
    {
        var key = Guid.NewGuid().ToString();
        var emails = Enumerable.Range(0, 50).Select(_ => ClientsApiDriver.UniqueEmail("idem")).ToList();
        var body = new { items = emails.Select(email => new { op = "create", name = "Idempotent", email, programType = "PRIME" }) };

        var first = await _api.BatchAsync(body, key);
        var firstBody = await first.Content.ReadAsStringAsync();
        var retry = await _api.BatchAsync(body, key);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(firstBody, await retry.Content.ReadAsStringAsync());
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        foreach (var email in emails)
        {
            Assert.Equal(1, await _api.CountByEmailAsync(email));
        }
    }

    [Fact]
    public async Task TheSameIdempotencyKeyWithADifferentBodyIs422()
    {
        var key = Guid.NewGuid().ToString();
        await _api.BatchAsync(new { items = new[] { new { op = "create", name = "One", email = ClientsApiDriver.UniqueEmail(), programType = "PRIME" } } }, key);
        var other = ClientsApiDriver.UniqueEmail();

        var response = await _api.BatchAsync(new { items = new[] { new { op = "create", name = "Two", email = other, programType = "PRIME" } } }, key);

        await Problem.ReadAsync(response, HttpStatusCode.UnprocessableEntity);
        Assert.Equal(0, await _api.CountByEmailAsync(other));
    }

    [Fact]
    public async Task AKeyWhoseFirstRequestIsStillRunningIs409()
    {
        var key = Guid.NewGuid().ToString();
        var email = ClientsApiDriver.UniqueEmail();
        // Hold the key's in-progress lock the way a running request does.
        await using var connection = await _api.Db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var hold = new Npgsql.NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 7368))", connection, transaction))
        {
            hold.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = "writer:batch" });
            hold.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = key });
            await hold.ExecuteNonQueryAsync();
        }

        var response = await _api.BatchAsync(new { items = new[] { new { op = "create", name = "Waiting", email, programType = "PRIME" } } }, key);

        await Problem.ReadAsync(response, HttpStatusCode.Conflict);
        Assert.Equal(0, await _api.CountByEmailAsync(email));
    }

    [Theory]
    [InlineData(0, "items_required")]
    [InlineData(1001, "too_many_items")]
    public async Task ABatchOfNoneOrMoreThanAThousandItemsIs400(int count, string code)
    {
        var items = Enumerable.Range(0, count).Select(i => new { op = "delete", id = i + 1 });

        var response = await _api.BatchAsync(new { items });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors, e => e.Code == code);
    }

    [Fact]
    public async Task AThousandCreatesLandInOneRequest()
    {
        var token = ClientsApiDriver.Token();
        var items = Enumerable.Range(0, 1000).Select(i => new { op = "create", name = $"Thousand {i}", email = $"k{i}.{token}@example.com", programType = "PRIME" });

        var result = await ClientsApiDriver.ReadAsync<BatchDto>(await _api.BatchAsync(new { items }));

        Assert.Equal(1000, result.Succeeded);
        Assert.Equal(1000, result.Items.Select(i => i.Id).Distinct().Count());
        Assert.Equal(1000, (await _api.QueryAsync("SELECT count(*) FROM clients WHERE email LIKE $1", r => r.GetInt64(0), $"%.{token}@example.com"))[0]);
    }

    [Fact]
    public async Task AnOversizedBodyIs413()
    {
        // Expect: 100-continue, as a client uploading a large body should: the API refuses from the
        // Content-Length before the body is sent (without it, the upload races the refusal and the
        // client may see a broken pipe instead of the 413).
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/optimized/clients/batch")
        {
            Content = new StringContent("{\"items\":[" + new string(' ', 3 * 1024 * 1024) + "]}", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.ExpectContinue = true;
        var response = await _api.Http.SendAsync(request);

        await Problem.ReadAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }
}
