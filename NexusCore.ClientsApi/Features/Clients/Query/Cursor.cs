using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace NexusCore.ClientsApi.Features.Clients.Query;

/// <summary>
/// Where a keyset page ends: the last row's sort key and id. Opaque to callers: base64url JSON plus
/// an HMAC, so a tampered cursor is refused, and bound to its query's filters and order, so a
/// cursor cannot be replayed against another query.
/// </summary>
public sealed record Cursor(string Key, long Id, string Token)
{
    private const int SignatureBytes = 16;

    public static string Create(CursorSigner signer, SortField sort, bool descending, ClientFilter filter, Client last)
    {
        var payload = new CursorPayload(
            1,
            sort.ToString(),
            descending,
            KeyOf(sort, last),
            last.Id,
            signer.QueryTag(filter));
        var body = JsonSerializer.SerializeToUtf8Bytes(payload, CursorJson.Default.CursorPayload);
        return Base64Url.EncodeToString(body) + "." + Base64Url.EncodeToString(signer.Sign(body));
    }

    /// <summary>Reads a cursor made by <see cref="Create"/> for the same query, or says why it cannot.</summary>
    public static Cursor? TryRead(CursorSigner signer, string token, SortField sort, bool descending, ClientFilter filter, out string? error)
    {
        error = "cursor is malformed.";
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (token.Length > 1024 || dot <= 0 || dot == token.Length - 1)
        {
            return null;
        }

        byte[] body, signature;
        try
        {
            body = Base64Url.DecodeFromChars(token.AsSpan(0, dot));
            signature = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return null;
        }

        // One spelling per cursor: the decoder would also take '=' padding and other bits in the last
        // character, so the same cursor could be sent (and cached) under several texts.
        if (!Base64Url.EncodeToString(body).AsSpan().SequenceEqual(token.AsSpan(0, dot))
            || !Base64Url.EncodeToString(signature).AsSpan().SequenceEqual(token.AsSpan(dot + 1)))
        {
            return null;
        }

        if (signature.Length != SignatureBytes || !CryptographicOperations.FixedTimeEquals(signature, signer.Sign(body)))
        {
            error = "cursor is invalid: it was altered or was not issued by this API.";
            return null;
        }

        CursorPayload? payload;
        try
        {
            payload = JsonSerializer.Deserialize(body, CursorJson.Default.CursorPayload);
        }
        catch (JsonException)
        {
            return null;
        }

        if (payload is null || payload.V != 1)
        {
            return null;
        }

        if (payload.Sort != sort.ToString() || payload.Desc != descending || payload.Query != signer.QueryTag(filter))
        {
            error = "cursor belongs to a different query: keep the filters and sort of the page that returned it.";
            return null;
        }

        error = null;
        return new Cursor(payload.Key, payload.Id, token);
    }

    private static string KeyOf(SortField sort, Client client) => sort switch
    {
        SortField.CreatedAt => client.CreatedAt.Ticks.ToString(CultureInfo.InvariantCulture),
        SortField.UpdatedAt => client.UpdatedAt.Ticks.ToString(CultureInfo.InvariantCulture),
        // The raw name: SQL applies lower() to it, exactly as the index does to the column.
        SortField.Name => client.Name,
        _ => client.Id.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>Signs cursors with the configured secret (the same on every replica).</summary>
public sealed class CursorSigner(byte[] key)
{
    public byte[] Sign(ReadOnlySpan<byte> body) => HMACSHA256.HashData(key, body)[..16];

    /// <summary>A short digest of the filters a cursor was issued for.</summary>
    public string QueryTag(ClientFilter filter) =>
        Convert.ToHexString(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(filter.Canonical())).AsSpan(0, 8));
}

internal sealed record CursorPayload(
    [property: JsonPropertyName("v")] int V,
    [property: JsonPropertyName("s")] string Sort,
    [property: JsonPropertyName("d")] bool Desc,
    [property: JsonPropertyName("k")] string Key,
    [property: JsonPropertyName("i")] long Id,
    [property: JsonPropertyName("q")] string Query);

[JsonSerializable(typeof(CursorPayload))]
internal sealed partial class CursorJson : JsonSerializerContext;
