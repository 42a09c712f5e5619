using NexusCore.ClientsApi.Extensions;
using FastEndpoints;
using FluentValidation.Results;
using Microsoft.Extensions.Options;
using Npgsql;
using NexusCore.ClientsApi.Telemetry;
using NexusCore.ClientsApi.Caching;
using Polly.Registry;

namespace NexusCore.ClientsApi.Features.Clients.Batch;

/// <summary>
/// <c>POST /api/v1/optimized/clients/batch</c>: up to 1,000 creates, updates, upserts and deletes.
/// <c>mode: atomic</c> (default) writes all or nothing; <c>perItem</c> reports each item's own status.
/// With an <c>Idempotency-Key</c>, a retry replays the first answer without writing again; the same key
/// with a different body is 422, and while the first request still runs, 409.
/// </summary>
public sealed partial class Endpoint(WriteDatabase writes, IOptions<IdempotencyKeyOptions> idempotency, CacheInvalidator invalidator, QueryTelemetry telemetry, ResiliencePipelineProvider<string> pipelines)
    : Endpoint<Request>
{
    private readonly Polly.ResiliencePipeline _retries = pipelines.GetPipeline(Retries.Pipeline);

    public override void Configure()
    {
        Post("batch");
        Group<OptimizedClientsGroup>();
        Options(route => route.RequireRateLimiting(RateLimitingDefaults.BatchPolicy));
        Roles(ApiRoles.Writer);
        Description(d => d.ClearDefaultProduces().WithName("batchClients").Produces<Response>().Problems(404, 409, 413, 415, 422, 503));
        Summary(s =>
        {
            s.Summary = "Create, update, upsert or delete up to 1,000 clients";
            s.Description = "mode atomic (default) writes all items or none (400, 404 or 409 naming each failing item as items[i].field); perItem reports each item's "
                + "own status. With an Idempotency-Key a retry replays the first answer (Idempotent-Replayed: true). A 503's outcome says whether the batch "
                + "may have been applied. Role: writer.";
            s.ResponseHeaders.Add(new ResponseHeader(200, "Idempotent-Replayed") { Description = "true when this is the stored answer of an earlier request with the same Idempotency-Key." });
            s.RetryAfterHeaders();
            s.ExampleRequest = new Request
            {
                Mode = BatchMode.Atomic,
                Items =
                [
                    new Item { Op = BatchOp.Create, Name = "Ada Lovelace", Email = "ada@example.com", ProgramType = "PRIME" },
                    new Item { Op = BatchOp.Update, Id = 42, Status = "inactive" },
                    new Item { Op = BatchOp.Delete, Id = 43 },
                ],
            };
        });
    }

    public override async Task HandleAsync(Request request, CancellationToken ct)
    {
        var items = request.Items!;
        var (runnable, planned) = Planner.Plan(items);
        var invalid = planned.Where(r => r is not null).Select(r => r!).ToList();
        if (request.Mode == BatchMode.Atomic && invalid.Count > 0)
        {
            await SendItemErrorsAsync(StatusCodes.Status400BadRequest, invalid, ct);
            return;
        }

        var fingerprint = Planner.Fingerprint(request.Mode, items);
        // Per caller: the identity's name is its API key's id, so two writers' Idempotency-Keys never meet.
        var scope = $"{User.Identity?.Name ?? "anonymous"}:batch";

        // Each attempt runs the whole transaction afresh (Retries says which failures and how often).
        var attempts = 0;
        try
        {
            await _retries.ExecuteAsync(async token =>
            {
                attempts++;
                await RunAsync(request, runnable, (ItemResult?[])planned.Clone(), scope, fingerprint, token);
            }, ct);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.CardinalityViolation)
        {
            // Two upserts whose emails differ in .NET's lower case but not in the database's (Postgres folds
            // 'İ' to 'i', .NET's invariant culture keeps it): the planner could not see that they name one
            // client, and the statement refused to change a row twice. Nothing was written.
            LogDuplicateTarget(ex.SqlState);
            ValidationFailures.Add(new ValidationFailure("items", "Two items of this batch name the same email as the database compares emails (letter case folded); send one operation per client.") { ErrorCode = "duplicate_target" });
            await Send.ErrorsAsync(StatusCodes.Status400BadRequest, ct);
        }
        catch (PostgresException ex) when (Retries.IsRetryable(ex))
        {
            // Concurrent writers kept changing the same clients: nothing was written; the caller may retry.
            // Only the SQLSTATE is logged: a PostgresException's text can name a key.
            LogGaveUp(ex.SqlState, attempts);
            await SendProblemAsync(StatusCodes.Status409Conflict, "Concurrent requests kept changing the same clients; nothing was written. Retry the batch.");
        }
    }

    private async Task RunAsync(Request request, List<PlannedItem> runnable, ItemResult?[] results, string scope, byte[] fingerprint, CancellationToken ct)
    {
        await using var write = await writes.OpenAsync(HttpContext, ct);
        var connection = write.Connection;
        await using var transaction = await connection.BeginTransactionAsync(ct);

        if (request.IdempotencyKey is { } key)
        {
            var (state, status, stored) = await IdempotencyKeys.ClaimAsync(connection, scope, key, fingerprint, idempotency.Value.RetentionHours, ct);
            switch (state)
            {
                case KeyState.InProgress:
                    await SendProblemAsync(StatusCodes.Status409Conflict, "A request with this Idempotency-Key is still being processed; retry when it has finished.");
                    return;
                case KeyState.Mismatch:
                    await SendProblemAsync(StatusCodes.Status422UnprocessableEntity, "This Idempotency-Key was already used with a different request body.");
                    return;
                case KeyState.Replay:
                    HttpContext.Response.Headers["Idempotent-Replayed"] = "true";
                    await SendJsonAsync(status, stored!, ct);
                    return;
            }
        }

        using (var query = telemetry.Start("write", "BATCH"))
        {
            await Data.ApplyAsync(connection, runnable, results, ct);
            query.Rows = results.Count(r => r?.Succeeded == true);
        }

        var all = results.Select(r => r!).ToList();
        var failed = all.Where(r => !r.Succeeded).ToList();
        if (request.Mode == BatchMode.Atomic && failed.Count > 0)
        {
            await transaction.RollbackAsync(ct);
            var status = failed.Any(f => f.Status == StatusCodes.Status409Conflict) ? StatusCodes.Status409Conflict : StatusCodes.Status404NotFound;
            await SendItemErrorsAsync(status, failed, ct);
            return;
        }

        var response = new Response(request.Mode, all.Count - failed.Count, failed.Count, all);
        var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(response, Planner.Json);
        if (request.IdempotencyKey is { } idempotencyKey)
        {
            await IdempotencyKeys.SaveAsync(connection, scope, idempotencyKey, fingerprint, StatusCodes.Status200OK, body, ct);
        }

        await write.CommitAsync(transaction, ct);
        await InvalidateAsync(runnable, all);
        await SendJsonAsync(StatusCodes.Status200OK, body, ct);
    }

    /// <summary>What the committed items made stale: changed clients' entries, lists, and counts when the groups moved.</summary>
    private Task InvalidateAsync(List<PlannedItem> runnable, List<ItemResult> results)
    {
        var succeeded = runnable.Where(item => results[item.Index].Succeeded).ToList();
        if (succeeded.Count == 0)
        {
            return Task.CompletedTask;
        }

        var changed = succeeded.Where(i => i.Op != BatchOp.Create).Select(i => results[i.Index].Id!.Value).ToList();
        var countsChanged = succeeded.Any(i => i.Op != BatchOp.Update || i.Status is not null || i.ProgramType is not null);
        return invalidator.AfterWriteAsync(changed, countsChanged);
    }

    private async Task SendJsonAsync(int status, byte[] body, CancellationToken ct)
    {
        HttpContext.Response.StatusCode = status;
        HttpContext.Response.ContentType = "application/json; charset=utf-8";
        HttpContext.Response.ContentLength = body.Length;
        await HttpContext.Response.Body.WriteAsync(body, ct);
    }

    private Task SendProblemAsync(int status, string detail) =>
        Send.ResultAsync(TypedResults.Problem(detail: detail, statusCode: status));

    /// <summary>One problem for the whole batch, naming each failing item as <c>items[i].field</c>.</summary>
    private Task SendItemErrorsAsync(int status, IEnumerable<ItemResult> failures, CancellationToken ct)
    {
        foreach (var failure in failures)
        {
            foreach (var error in failure.Problem!.Errors)
            {
                ValidationFailures.Add(new ValidationFailure($"items[{failure.Index}].{error.Name}", error.Reason) { ErrorCode = error.Code });
            }
        }

        return Send.ErrorsAsync(status, ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch transaction rolled back ({SqlState}): two upserts name one email as the database folds case; answered 400")]
    private partial void LogDuplicateTarget(string sqlState);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch transaction rolled back ({SqlState}) on attempt {Attempt}, the last; answered 409")]
    private partial void LogGaveUp(string sqlState, int attempt);
}
