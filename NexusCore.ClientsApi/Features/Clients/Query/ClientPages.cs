using System.Text.Json;
using FastEndpoints;
using Npgsql;
using NexusCore.ClientsApi.Caching;

namespace NexusCore.ClientsApi.Features.Clients.Query;

/// <summary>Runs a page query and its count for list and search.</summary>
internal static class ClientPages
{
    /// <summary>
    /// What list and search share once their request is checked: the cursor must belong to this query
    /// (else 400 <c>cursor_invalid</c>), then the page comes from the cache (keyed by <paramref name="route"/>
    /// and the normalized query) or Postgres.
    /// </summary>
    public static async Task SendAsync<TRequest>(
        Endpoint<TRequest, ClientPage> endpoint,
        NpgsqlDataSource db,
        CursorProtector cursors,
        ReadCache cache,
        string route,
        ClientFilter filter,
        SortField? sort,
        SortOrder? order,
        int? limit,
        CountMode? count,
        string? cursor,
        CancellationToken ct)
        where TRequest : notnull
    {
        var query = ClientQueryRules.Page(filter, sort, order, limit, count, cursor, cursors, out var cursorError);
        if (query is null)
        {
            endpoint.ValidationFailures.Add(new FluentValidation.Results.ValidationFailure("cursor", cursorError) { ErrorCode = "cursor_invalid" });
            endpoint.ThrowIfAnyErrors();
        }

        var result = await cache.GetAsync(
            QueryType.Search,
            // The route's fixed name, not the request path: paths match case-insensitively, keys must not.
            route + ":" + query!.Canonical(),
            [CacheInvalidator.Lists],
            token => ReadAsync(db, cursors, query, token),
            etag: null,
            ct);
        await CachedReads.SendAsync(endpoint.HttpContext, result, ct);
    }

    public static async Task<ClientPage> ReadAsync(NpgsqlDataSource db, CursorProtector cursors, ClientPageQuery query, CancellationToken ct)
    {
        var page = ClientQuerySql.ForFilter(query.Filter);
        if (query.After is { } after)
        {
            page.After(query.Sort, query.Descending, after);
        }

        var countCommand = CountCommand(query.Filter, query.Count);

        // A first page that is not full holds every match, so its length is the exact count: a count
        // that would scan the matches (text or date filters) waits for the page and runs only when the
        // page is full. Cheap counts (from client_counts, or the planner's estimate) share its round trip.
        var countAfterPage = countCommand is not null && query.After is null && query.Count == CountMode.Exact && !query.Filter.CountableFromCounters;
        var sharedCount = countAfterPage ? null : countCommand;
        var items = new List<Client>(query.Limit + 1);
        long? count = null;
        await using (var batch = db.CreateBatch())
        {
            var pageCommand = new NpgsqlBatchCommand(
                $"SELECT {Client.Columns} FROM clients{page.Where}{ClientQuerySql.OrderBy(query.Sort, query.Descending)} LIMIT {query.Limit + 1}");
            pageCommand.Parameters.AddRange(page.Parameters.ToArray());
            batch.BatchCommands.Add(pageCommand);
            if (sharedCount is not null)
            {
                batch.BatchCommands.Add(sharedCount);
            }

            await using var reader = await batch.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                items.Add(Client.Read(reader));
            }

            if (sharedCount is not null && await reader.NextResultAsync(ct) && await reader.ReadAsync(ct))
            {
                count = query.Count == CountMode.Estimated && !query.Filter.CountableFromCounters
                    ? EstimatedRows(reader.GetString(0))
                    : reader.GetInt64(0);
            }
        }

        if (countAfterPage)
        {
            count = items.Count <= query.Limit ? items.Count : await ScanCountAsync(db, countCommand!, ct);
        }

        string? next = null;
        if (items.Count > query.Limit)
        {
            items.RemoveAt(items.Count - 1);
            next = Cursor.Create(cursors, query.Sort, query.Descending, query.Filter, items[^1]);
        }

        return new ClientPage(items, next, count, query.Count.ToString().ToLowerInvariant());
    }

    /// <summary>
    /// Exact counts of status/program-type filters come from client_counts (nine rows, exact, whatever
    /// the table size), for both modes. Other exact counts scan; estimates ask the planner, as PostgREST does.
    /// </summary>
    private static NpgsqlBatchCommand? CountCommand(ClientFilter filter, CountMode mode)
    {
        if (mode == CountMode.None)
        {
            return null;
        }

        var sql = ClientQuerySql.ForFilter(filter);
        var text = filter.CountableFromCounters
            ? $"SELECT coalesce(sum(clients), 0)::bigint FROM client_counts{sql.Where}"
            : mode == CountMode.Exact
                ? $"SELECT count(*) FROM clients{sql.Where}"
                : $"EXPLAIN (FORMAT JSON) SELECT 1 FROM clients{sql.Where}";
        var command = new NpgsqlBatchCommand(text);
        command.Parameters.AddRange(sql.Parameters.ToArray());
        return command;
    }

    private static async Task<long> ScanCountAsync(NpgsqlDataSource db, NpgsqlBatchCommand countCommand, CancellationToken ct)
    {
        await using var batch = db.CreateBatch();
        batch.BatchCommands.Add(countCommand);
        return (long)(await batch.ExecuteScalarAsync(ct))!;
    }

    private static long EstimatedRows(string plan)
    {
        using var document = JsonDocument.Parse(plan);
        return (long)document.RootElement[0].GetProperty("Plan").GetProperty("Plan Rows").GetDouble();
    }
}
