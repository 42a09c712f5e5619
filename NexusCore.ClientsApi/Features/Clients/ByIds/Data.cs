using Npgsql;
using NexusCore.ClientsApi.Extensions;

namespace NexusCore.ClientsApi.Features.Clients.ByIds;

internal static class Data
{
    private const string Sql = $"SELECT {Client.Columns} FROM clients WHERE id = ANY($1)";

    public static async Task<Response> FindAsync(LookupDatabase db, long[] ids, CancellationToken ct)
    {
        var wanted = ids.Distinct().ToArray();
        var found = new Dictionary<long, Client>(wanted.Length);

        using (await db.BulkTurnAsync(ct))
        await using (var command = db.Source.CreateCommand(Sql))
        {
            command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = wanted });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var client = Client.Read(reader);
                found[client.Id] = client;
            }
        }

        var items = new List<Client>(found.Count);
        var missing = new List<long>();
        foreach (var id in wanted)
        {
            if (found.TryGetValue(id, out var client))
            {
                items.Add(client);
            }
            else
            {
                missing.Add(id);
            }
        }

        return new Response(items, missing);
    }
}
