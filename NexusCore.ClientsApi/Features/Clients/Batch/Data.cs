using Npgsql;
using NpgsqlTypes;

namespace NexusCore.ClientsApi.Features.Clients.Batch;

/// <summary>A validated item with normalized values, at its position in the request.</summary>
internal sealed record PlannedItem(int Index, BatchOp Op, long? Id, string? Name, string? Email, string? Status, string? ProgramType)
{
    public string? EmailKey => Email?.ToLowerInvariant();
}

/// <summary>
/// Applies a batch inside the caller's transaction with set-based statements per kind of operation
/// (unnest arrays, never a statement per row): deletes, then updates, upserts and creates, so an email
/// a delete frees can be reused by a later item. No client may be the target of two items, which makes
/// the result independent of the order within a kind.
/// A taken email never fails a statement in the normal path: the error would make Postgres log the
/// email in its DETAIL line. Creates skip it (ON CONFLICT DO NOTHING), updates check for it in their
/// own statement, upserts are keyed by it.
/// </summary>
internal static class Data
{
    private const string DeleteSql = "DELETE FROM clients WHERE id = ANY($1) RETURNING id";

    // An item whose new email another client holds matches no row (it is reported, not failed). A
    // writer that takes the email between this statement's snapshot and its index insertion still
    // fails the statement with a unique violation: the endpoint then runs the batch again, and this
    // check sees the email taken.
    private const string UpdateSql = """
        UPDATE clients AS c
        SET name = coalesce(u.name, c.name),
            email = coalesce(u.email, c.email),
            status = coalesce(u.status, c.status),
            program_type = coalesce(u.program_type, c.program_type),
            updated_at = now(),
            version = c.version + 1
        FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(id, name, email, status, program_type)
        WHERE c.id = u.id
          AND (u.email IS NULL OR NOT EXISTS (SELECT FROM clients AS other WHERE lower(other.email) = lower(u.email) AND other.id <> u.id))
        RETURNING c.id, c.version
        """;

    // Of the updates that matched nothing, the ids that exist: their email was taken.
    private const string ExistingSql = "SELECT id FROM clients WHERE id = ANY($1)";

    // Rows are matched back to items by the email as sent (each item's is distinct, and the row holds
    // it exactly), not by a lower-case form: .NET's and Postgres' lower() may differ.
    private const string UpsertSql = """
        INSERT INTO clients AS c (name, email, status, program_type)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
        ON CONFLICT ((lower(email))) DO UPDATE
        SET name = EXCLUDED.name,
            email = EXCLUDED.email,
            status = EXCLUDED.status,
            program_type = EXCLUDED.program_type,
            updated_at = now(),
            version = c.version + 1
        RETURNING c.id, c.version, c.email, c.xmax = 0
        """;

    // A row whose email is taken is skipped, not an error; a concurrent writer of the same email is
    // waited for, then skipped if it committed. Skipped items are the ones missing from RETURNING.
    private const string CreateSql = """
        INSERT INTO clients (name, email, status, program_type)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
        ON CONFLICT ((lower(email))) DO NOTHING
        RETURNING id, version, email
        """;

    /// <summary>Runs every planned item and fills in <paramref name="results"/> at each item's index.</summary>
    public static async Task ApplyAsync(NpgsqlConnection connection, IReadOnlyList<PlannedItem> items, ItemResult?[] results, CancellationToken ct)
    {
        await DeleteAsync(connection, items.Where(i => i.Op == BatchOp.Delete).ToList(), results, ct);
        await UpdateAsync(connection, items.Where(i => i.Op == BatchOp.Update).ToList(), results, ct);
        await UpsertAsync(connection, items.Where(i => i.Op == BatchOp.Upsert).ToList(), results, ct);
        await CreateAsync(connection, items.Where(i => i.Op == BatchOp.Create).ToList(), results, ct);
    }

    private static async Task DeleteAsync(NpgsqlConnection connection, List<PlannedItem> deletes, ItemResult?[] results, CancellationToken ct)
    {
        if (deletes.Count == 0)
        {
            return;
        }

        var deleted = new HashSet<long>();
        await using (var command = new NpgsqlCommand(DeleteSql, connection))
        {
            command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = deletes.Select(d => d.Id!.Value).ToArray() });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                deleted.Add(reader.GetInt64(0));
            }
        }

        foreach (var item in deletes)
        {
            results[item.Index] = deleted.Contains(item.Id!.Value)
                ? new ItemResult(item.Index, item.Op, StatusCodes.Status204NoContent, item.Id, null, null)
                : NotFound(item);
        }
    }

    private static async Task UpdateAsync(NpgsqlConnection connection, List<PlannedItem> updates, ItemResult?[] results, CancellationToken ct)
    {
        if (updates.Count == 0)
        {
            return;
        }

        var updated = new Dictionary<long, int>();
        await using (var command = new NpgsqlCommand(UpdateSql, connection))
        {
            command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = updates.Select(u => u.Id!.Value).ToArray() });
            command.Parameters.Add(TextArray(updates.Select(u => u.Name)));
            command.Parameters.Add(TextArray(updates.Select(u => u.Email)));
            command.Parameters.Add(TextArray(updates.Select(u => u.Status)));
            command.Parameters.Add(TextArray(updates.Select(u => u.ProgramType)));
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                updated[reader.GetInt64(0)] = reader.GetInt32(1);
            }
        }

        // An item that matched nothing names a missing client, or one whose new email is taken.
        var unmatched = updates.Where(u => !updated.ContainsKey(u.Id!.Value)).ToList();
        var existing = new HashSet<long>();
        if (unmatched.Any(u => u.Email is not null))
        {
            await using var command = new NpgsqlCommand(ExistingSql, connection);
            command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = unmatched.Select(u => u.Id!.Value).ToArray() });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                existing.Add(reader.GetInt64(0));
            }
        }

        foreach (var item in updates)
        {
            results[item.Index] = updated.TryGetValue(item.Id!.Value, out var version)
                ? new ItemResult(item.Index, item.Op, StatusCodes.Status200OK, item.Id, version, null)
                : item.Email is not null && existing.Contains(item.Id!.Value) ? EmailTaken(item) : NotFound(item);
        }
    }

    private static async Task UpsertAsync(NpgsqlConnection connection, List<PlannedItem> upserts, ItemResult?[] results, CancellationToken ct)
    {
        if (upserts.Count == 0)
        {
            return;
        }

        var written = new Dictionary<string, (long Id, int Version, bool Inserted)>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand(UpsertSql, connection))
        {
            AddNewClientArrays(command, upserts);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                written[reader.GetString(2)] = (reader.GetInt64(0), reader.GetInt32(1), reader.GetBoolean(3));
            }
        }

        foreach (var item in upserts)
        {
            var (id, version, inserted) = written[item.Email!];
            results[item.Index] = new ItemResult(item.Index, item.Op, inserted ? StatusCodes.Status201Created : StatusCodes.Status200OK, id, version, null);
        }
    }

    private static async Task CreateAsync(NpgsqlConnection connection, List<PlannedItem> creates, ItemResult?[] results, CancellationToken ct)
    {
        if (creates.Count == 0)
        {
            return;
        }

        var created = new Dictionary<string, (long Id, int Version)>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand(CreateSql, connection))
        {
            AddNewClientArrays(command, creates);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                created[reader.GetString(2)] = (reader.GetInt64(0), reader.GetInt32(1));
            }
        }

        foreach (var item in creates)
        {
            results[item.Index] = created.TryGetValue(item.Email!, out var row)
                ? new ItemResult(item.Index, item.Op, StatusCodes.Status201Created, row.Id, row.Version, null)
                : EmailTaken(item);
        }
    }

    private static void AddNewClientArrays(NpgsqlCommand command, List<PlannedItem> items)
    {
        command.Parameters.Add(TextArray(items.Select(i => i.Name)));
        command.Parameters.Add(TextArray(items.Select(i => i.Email)));
        command.Parameters.Add(TextArray(items.Select(i => i.Status ?? "active")));
        command.Parameters.Add(TextArray(items.Select(i => i.ProgramType)));
    }

    private static NpgsqlParameter TextArray(IEnumerable<string?> values) =>
        new() { Value = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };

    private static ItemResult NotFound(PlannedItem item) => Failure(item, StatusCodes.Status404NotFound,
        $"No client has id {item.Id}.", new ItemError("id", "No client has this id.", "not_found"));

    private static ItemResult EmailTaken(PlannedItem item) => Failure(item, StatusCodes.Status409Conflict,
        "A client with this email already exists.", new ItemError("email", "A client with this email already exists.", "email_taken"));

    public static ItemResult Failure(PlannedItem item, int status, string detail, params ItemError[] errors) =>
        new(item.Index, item.Op, status, item.Id, null, new ItemProblem(ProblemTypes.For(status), detail, errors));
}
