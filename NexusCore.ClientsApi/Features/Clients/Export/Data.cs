using System.Data.Common;
using Npgsql;
using NexusCore.ClientsApi.Features.Clients.Query;

namespace NexusCore.ClientsApi.Features.Clients.Export;

internal static class Data
{
    /// <summary>
    /// Opens a streaming reader over every matching client, ordered by id. One statement reads one
    /// snapshot, so the export is consistent however long it streams; rows are read one at a time.
    /// </summary>
    public static async Task<(NpgsqlCommand Command, DbDataReader Reader)> OpenAsync(
        NpgsqlDataSource db, ClientFilter filter, int timeoutSeconds, CancellationToken ct)
    {
        var sql = ClientQuerySql.ForFilter(filter);
        var command = db.CreateCommand(
            "SELECT id, name, email, status, program_type, created_at, updated_at, version FROM clients" + sql.Where + " ORDER BY id");
        command.Parameters.AddRange(sql.Parameters.ToArray());
        command.CommandTimeout = timeoutSeconds;
        try
        {
            // Npgsql streams rows one at a time by default: memory stays flat however many rows match.
            return (command, await command.ExecuteReaderAsync(ct));
        }
        catch
        {
            await command.DisposeAsync();
            throw;
        }
    }
}
