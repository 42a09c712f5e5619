using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace NexusCore.ClientsApi.Features.Clients.Batch;

/// <summary>Validates and normalizes the items of a batch, and fingerprints the request.</summary>
internal static class Planner
{
    private static readonly ItemValidator ItemRules = new();

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>
    /// The runnable items, and a 400 result for every item that breaks a rule, including a client
    /// (id or email) targeted by more than one item.
    /// </summary>
    public static (List<PlannedItem> Runnable, ItemResult?[] Results) Plan(IReadOnlyList<Item> items)
    {
        var results = new ItemResult?[items.Count];
        var runnable = new List<PlannedItem>(items.Count);
        var ids = new HashSet<long>();
        var emails = new HashSet<string>(StringComparer.Ordinal);

        for (var index = 0; index < items.Count; index++)
        {
            var item = items[index];
            var validation = ItemRules.Validate(item);
            if (!validation.IsValid)
            {
                var errors = validation.Errors
                    .Select(e => new ItemError(FieldName(e.PropertyName), e.ErrorMessage, e.ErrorCode))
                    .ToArray();
                results[index] = Invalid(index, item.Op ?? BatchOp.Create, item.Id, errors);
                continue;
            }

            var planned = new PlannedItem(
                index,
                item.Op!.Value,
                item.Id,
                item.Name?.Trim(),
                item.Email?.Trim(),
                ClientRules.NormalizeStatus(item.Status),
                ClientRules.NormalizeProgramType(item.ProgramType));

            var duplicateId = planned.Id is { } id && !ids.Add(id);
            var duplicateEmail = !duplicateId && planned.EmailKey is { } email && !emails.Add(email);
            if (duplicateId || duplicateEmail)
            {
                results[index] = Invalid(index, planned.Op, planned.Id, new ItemError(
                    duplicateId ? "id" : "email",
                    "Another item of this batch already targets this client; send one operation per client.",
                    "duplicate_target"));
                continue;
            }

            runnable.Add(planned);
        }

        return (runnable, results);
    }

    /// <summary>A digest of the normalized request: a retry with the same content matches even if its JSON is formatted differently.</summary>
    public static byte[] Fingerprint(BatchMode mode, IReadOnlyList<Item> items) =>
        SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(new { mode, items }, Json));

    private static ItemResult Invalid(int index, BatchOp op, long? id, params ItemError[] errors) =>
        new(index, op, StatusCodes.Status400BadRequest, id, null,
            new ItemProblem(ProblemTypes.For(StatusCodes.Status400BadRequest), "The item is not valid.", errors));

    private static string FieldName(string property) =>
        property.Length == 0 ? "item" : char.ToLowerInvariant(property[0]) + property[1..];
}
