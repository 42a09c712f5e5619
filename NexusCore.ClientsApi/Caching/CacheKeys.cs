using System.Security.Cryptography;
using System.Text;

namespace NexusCore.ClientsApi.Caching;

/// <summary>
/// Names cache entries after a keyed digest (HMAC-SHA256, 128 bits) of the canonical request. A request
/// can hold a searched name or email (<c>q</c>); the key reaches Redis and FusionCache's own log lines,
/// where a plain digest could be matched against a list of guessed names. The key is derived (HKDF) from
/// the secret every replica shares, so replicas name an entry alike.
/// </summary>
public sealed class CacheKeys
{
    private readonly byte[] _key;

    public CacheKeys(ReadOnlySpan<byte> secret)
    {
        _key = new byte[32];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, _key, "NexusCore.ClientsApi cache keys"u8, "cache key digest v1"u8);
    }

    /// <summary><c>&lt;query type&gt;:&lt;32 hex digits&gt;</c>: bounded length whatever the request.</summary>
    public string For(QueryType type, string request) =>
        $"{CacheMetrics.Name(type)}:{Convert.ToHexString(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(request)).AsSpan(0, 16))}";
}
