using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace NexusCore.ClientsApi.Features.Clients.Query;

/// <summary>
/// Where a keyset page ends: the last row's sort key and id. Opaque to callers, and unreadable: the
/// position (for <c>sort=name</c>, a client's name) is encrypted and authenticated by
/// <see cref="CursorProtector"/>, so a tampered or foreign cursor is refused. A cursor is bound to its
/// query's filters and order, so it cannot be replayed against another query.
/// </summary>
public sealed record Cursor(string Key, long Id, string Token)
{
    private const byte Version = 2;

    // version, sort, descending, id, query tag, key length
    private const int HeaderBytes = 1 + 1 + 1 + sizeof(long) + CursorProtector.QueryTagBytes + sizeof(ushort);

    /// <summary>A name's UTF-8 bytes at most: 200 characters (the table's limit) of 4 bytes each.</summary>
    private const int MaxKeyBytes = 4 * ClientRules.NameMaxLength;

    /// <summary>
    /// Plain texts are padded with zeros to a multiple of this, so a cursor's length says little about
    /// the length of the name inside it.
    /// </summary>
    private const int PaddingBlock = 32;

    /// <summary>The longest cursor this API issues: longer input is refused before any decoding.</summary>
    public static readonly int MaxTokenLength = CursorProtector.TokenLength(PaddedLength(HeaderBytes + MaxKeyBytes));

    public static string Create(CursorProtector protector, SortField sort, bool descending, ClientFilter filter, Client last)
    {
        var key = Encoding.UTF8.GetBytes(KeyOf(sort, last));
        var plain = new byte[PaddedLength(HeaderBytes + key.Length)];
        plain[0] = Version;
        plain[1] = (byte)sort;
        plain[2] = descending ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64BigEndian(plain.AsSpan(3), last.Id);
        protector.QueryTag(filter, plain.AsSpan(11, CursorProtector.QueryTagBytes));
        BinaryPrimitives.WriteUInt16BigEndian(plain.AsSpan(11 + CursorProtector.QueryTagBytes), (ushort)key.Length);
        key.CopyTo(plain.AsSpan(HeaderBytes));
        return protector.Protect(plain);
    }

    /// <summary>Reads a cursor made by <see cref="Create"/> for the same query, or says why it cannot.</summary>
    public static Cursor? TryRead(CursorProtector protector, string token, SortField sort, bool descending, ClientFilter filter, out string? error)
    {
        error = "cursor is malformed.";
        if (token.Length > MaxTokenLength)
        {
            return null;
        }

        switch (protector.TryUnprotect(token, out var plain))
        {
            case UnprotectResult.Malformed:
                return null;
            case UnprotectResult.NotAuthentic:
                error = "cursor is invalid: it was altered or was not issued by this API.";
                return null;
        }

        // Authentic, so written by Create: these checks guard against a change of format only.
        if (plain.Length < HeaderBytes || plain[0] != Version)
        {
            return null;
        }

        var keyLength = BinaryPrimitives.ReadUInt16BigEndian(plain.AsSpan(11 + CursorProtector.QueryTagBytes));
        if (keyLength > plain.Length - HeaderBytes)
        {
            return null;
        }

        string key;
        try
        {
            key = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(plain, HeaderBytes, keyLength);
        }
        catch (ArgumentException)
        {
            return null;
        }

        Span<byte> queryTag = stackalloc byte[CursorProtector.QueryTagBytes];
        protector.QueryTag(filter, queryTag);
        if (plain[1] != (byte)sort || plain[2] != (descending ? 1 : 0) || !queryTag.SequenceEqual(plain.AsSpan(11, CursorProtector.QueryTagBytes)))
        {
            error = "cursor belongs to a different query: keep the filters and sort of the page that returned it.";
            return null;
        }

        error = null;
        return new Cursor(key, BinaryPrimitives.ReadInt64BigEndian(plain.AsSpan(3)), token);
    }

    private static int PaddedLength(int length) => (length + PaddingBlock - 1) / PaddingBlock * PaddingBlock;

    private static string KeyOf(SortField sort, Client client) => sort switch
    {
        SortField.CreatedAt => client.CreatedAt.Ticks.ToString(CultureInfo.InvariantCulture),
        SortField.UpdatedAt => client.UpdatedAt.Ticks.ToString(CultureInfo.InvariantCulture),
        // The raw name: SQL applies lower() to it, exactly as the index does to the column.
        SortField.Name => client.Name,
        _ => client.Id.ToString(CultureInfo.InvariantCulture),
    };
}

internal enum UnprotectResult
{
    Authentic,
    Malformed,
    NotAuthentic,
}

/// <summary>
/// Encrypts and authenticates cursors with keys derived (HKDF-SHA256, one label per purpose) from the
/// configured secret, the same on every replica.
/// <para>
/// AES-256-GCM, an AEAD: one primitive encrypts and authenticates the cipher text (in effect
/// encrypt-then-MAC, so nothing is decrypted or parsed before the tag checks out), from the BCL and
/// hardware-accelerated. GCM fails badly if a key and nonce ever repeat, and random 96-bit nonces under
/// one key are good for about 2^32 messages only; so each cursor gets a key of its own:
/// a synthetic IV, the first 16 bytes of HMAC-SHA256 of the plain text (as SIV modes do), picks the
/// cursor's AES key by HKDF-Expand, and that key encrypts this one plain text with a zero nonce.
/// Equal positions give equal cursors (one spelling, and a cached first page's cursor leads to a
/// cached second page), different ones practically never share a key (2^64 cursors to a collision).
/// </para>
/// <para>Token: <c>base64url(iv ‖ cipher text) "." base64url(tag)</c>, 16-byte IV and tag.</para>
/// </summary>
public sealed class CursorProtector
{
    public const int QueryTagBytes = 8;

    private const int IvBytes = 16;
    private const int TagBytes = 16;

    private static readonly byte[] ZeroNonce = new byte[12];

    private readonly byte[] _encryptionKey;
    private readonly byte[] _ivKey;
    private readonly byte[] _queryKey;

    public CursorProtector(ReadOnlySpan<byte> secret)
    {
        Span<byte> root = stackalloc byte[32];
        HKDF.Extract(HashAlgorithmName.SHA256, secret, "NexusCore.ClientsApi cursors"u8, root);
        _encryptionKey = Derive(root, "cursor encryption v2"u8);
        _ivKey = Derive(root, "cursor synthetic iv v2"u8);
        _queryKey = Derive(root, "cursor query binding v2"u8);
    }

    /// <summary>The length of the token for a plain text of <paramref name="plainLength"/> bytes.</summary>
    public static int TokenLength(int plainLength) =>
        Base64Url.GetEncodedLength(IvBytes + plainLength) + 1 + Base64Url.GetEncodedLength(TagBytes);

    /// <summary>A digest of the filters a cursor was issued for, keyed so it reveals nothing about them.</summary>
    public void QueryTag(ClientFilter filter, Span<byte> destination) =>
        HMACSHA256.HashData(_queryKey, Encoding.UTF8.GetBytes(filter.Canonical())).AsSpan(0, QueryTagBytes).CopyTo(destination);

    public string Protect(ReadOnlySpan<byte> plain)
    {
        var body = new byte[IvBytes + plain.Length];
        var iv = body.AsSpan(0, IvBytes);
        HMACSHA256.HashData(_ivKey, plain).AsSpan(0, IvBytes).CopyTo(iv);
        Span<byte> tag = stackalloc byte[TagBytes];
        using (var aes = new AesGcm(CursorKey(iv), TagBytes))
        {
            aes.Encrypt(ZeroNonce, plain, body.AsSpan(IvBytes), tag);
        }

        return Base64Url.EncodeToString(body) + "." + Base64Url.EncodeToString(tag);
    }

    internal UnprotectResult TryUnprotect(string token, out byte[] plain)
    {
        plain = [];
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot == token.Length - 1)
        {
            return UnprotectResult.Malformed;
        }

        byte[] body, tag;
        try
        {
            body = Base64Url.DecodeFromChars(token.AsSpan(0, dot));
            tag = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return UnprotectResult.Malformed;
        }

        // One spelling per cursor: the decoder would also take '=' padding and other bits in the last
        // character, so the same cursor could be sent (and cached) under several texts.
        if (!Base64Url.EncodeToString(body).AsSpan().SequenceEqual(token.AsSpan(0, dot))
            || !Base64Url.EncodeToString(tag).AsSpan().SequenceEqual(token.AsSpan(dot + 1)))
        {
            return UnprotectResult.Malformed;
        }

        if (body.Length <= IvBytes || tag.Length != TagBytes)
        {
            return UnprotectResult.Malformed;
        }

        var iv = body.AsSpan(0, IvBytes);
        var decrypted = new byte[body.Length - IvBytes];
        try
        {
            using var aes = new AesGcm(CursorKey(iv), TagBytes);
            aes.Decrypt(ZeroNonce, body.AsSpan(IvBytes), tag, decrypted);
        }
        catch (AuthenticationTagMismatchException)
        {
            return UnprotectResult.NotAuthentic;
        }

        // The IV must be the one this plain text gets: no second cursor for the same position.
        if (!CryptographicOperations.FixedTimeEquals(iv, HMACSHA256.HashData(_ivKey, decrypted).AsSpan(0, IvBytes)))
        {
            return UnprotectResult.NotAuthentic;
        }

        plain = decrypted;
        return UnprotectResult.Authentic;
    }

    private byte[] CursorKey(ReadOnlySpan<byte> iv)
    {
        var key = new byte[32];
        HKDF.Expand(HashAlgorithmName.SHA256, _encryptionKey, key, iv);
        return key;
    }

    private static byte[] Derive(ReadOnlySpan<byte> root, ReadOnlySpan<byte> label)
    {
        var key = new byte[32];
        HKDF.Expand(HashAlgorithmName.SHA256, root, key, label);
        return key;
    }
}
