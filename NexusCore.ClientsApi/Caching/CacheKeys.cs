using System.Security.Cryptography;
using System.Text;

namespace NexusCore.ClientsApi.Caching;

/// <summary>
/// Names cache entries after a keyed digest (HMAC-SHA256, 128 bits) of the canonical request. A request
/// can hold a searched name or email (<c>q</c>); the key reaches Redis and FusionCache's own log lines,
/// where a plain digest could be matched against a list of guessed names. The key is derived (HKDF) from
/// the secret every replica shares, so replicas name an entry alike. A request that is one id (a find)
/// holds nothing personal and is named in the clear (<c>find:42</c>): the busiest read skips the HMAC.
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
        IsOneId(type, request)
            ? request
            : $"{CacheMetrics.Name(type)}:{Convert.ToHexString(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(request)).AsSpan(0, 16))}";

    /// <summary><c>find:</c> and up to 19 digits: an id, which is not personal data.</summary>
    private static bool IsOneId(QueryType type, string request)
    {
        const string prefix = "find:";
        if (type != QueryType.Find || !request.StartsWith(prefix, StringComparison.Ordinal) || request.Length == prefix.Length || request.Length > prefix.Length + 19)
        {
            return false;
        }

        foreach (var c in request.AsSpan(prefix.Length))
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
