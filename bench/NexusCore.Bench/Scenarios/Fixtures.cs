using System.Globalization;
using System.Text;
using Npgsql;

namespace NexusCore.Bench.Scenarios;

/// <summary>
/// The concrete requests every configuration runs, picked once from the seeded data so before and
/// after ask the same questions: a selective search term (a real client's name), hot ids, id lists,
/// the analytics year. Ids above <see cref="ReservedFrom"/> are never requested by any workload
/// except the stampede, which needs keys no cache has seen.
/// </summary>
public sealed record Fixtures(
    long Clients,
    string SelectiveQ,
    IReadOnlyList<long> HotIds,
    IReadOnlyList<long[]> IdLists,
    DateOnly AnalyticsFrom,
    DateOnly AnalyticsTo)
{
    public const int HotIdCount = 1000;
    public const int IdListCount = 64;
    public const int IdsPerList = 100;
    public const int Reserved = 100;

    public long ReservedFrom => Clients - Reserved + 1;

    public static async Task<Fixtures> PickAsync(NpgsqlDataSource db, long clients, CancellationToken ct)
    {
        var random = new Random(20_240_601);
        var pickable = clients - Reserved;

        await using var command = db.CreateCommand("SELECT name FROM clients WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = pickable / 2 });
        var name = (string)(await command.ExecuteScalarAsync(ct))!;

        var hot = Enumerable.Range(0, HotIdCount).Select(_ => random.NextInt64(1, pickable + 1)).Distinct().ToList();
        var lists = Enumerable.Range(0, IdListCount)
            .Select(_ => Enumerable.Range(0, IdsPerList).Select(_ => random.NextInt64(1, pickable + 1)).Distinct().ToArray())
            .ToList();
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        return new Fixtures(clients, name, hot, lists, today.AddDays(-364), today);
    }

    public static string IdsJson(long[] ids) =>
        "{\"ids\":[" + string.Join(',', ids.Select(i => i.ToString(CultureInfo.InvariantCulture))) + "]}";

    public static string SqlLiteral(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    public static string IdArrayLiteral(long[] ids)
    {
        var text = new StringBuilder("'{");
        text.AppendJoin(',', ids.Select(i => i.ToString(CultureInfo.InvariantCulture)));
        return text.Append("}'::bigint[]").ToString();
    }
}
