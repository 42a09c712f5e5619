using System.Security.Cryptography;
using System.Text;

namespace NexusCore.Web;

/// <summary>
/// What an API key's id, role, label and value may be, and how a key is hashed. The AppHost hashes the keys it
/// hands out and the services hash the keys callers present, so both must agree: this file is compiled into
/// both (the AppHost links it as source), one definition for the two ends.
/// </summary>
internal static class ApiKeyRules
{
    public const string Reader = "reader";
    public const string Writer = "writer";
    public const string Admin = "admin";
    public const string Ingest = "ingest";

    public static readonly IReadOnlyList<string> Roles = [Reader, Writer, Admin, Ingest];

    /// <summary>Ids name a secret parameter (<c>api-key-&lt;id&gt;</c>, an Aspire resource name) and a configuration key.</summary>
    public const int MaxIdLength = 32;

    /// <summary>Keys are random values of at least this many characters (the AppHost generates 32 letters and digits, about 190 bits).</summary>
    public const int MinKeyLength = 32;

    public const int MaxKeyLength = 512;

    public const int MaxLabelLength = 100;

    /// <summary>More keys than any deployment needs; every request compares its key with each of them.</summary>
    public const int MaxKeys = 100;

    /// <summary>The lower-case hex SHA-256 of a key: 64 characters.</summary>
    public const int HashLength = 64;

    /// <summary>
    /// Lower-case ASCII letters and digits in groups joined by single hyphens, at most 32 characters: valid in an
    /// Aspire resource name, an environment variable name and a configuration key, and unable to differ from
    /// another id only by letter case (configuration keys are case-insensitive).
    /// </summary>
    public static bool IsValidId(string id)
    {
        if (id.Length is 0 or > MaxIdLength || id[0] == '-' || id[^1] == '-' || id.Contains("--", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in id)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A label is for people (dashboard, configuration): short, printable.</summary>
    public static bool IsValidLabel(string label) => label.Length <= MaxLabelLength && !label.Any(char.IsControl);

    /// <summary>
    /// A key is sent in a header, where only visible ASCII arrives intact (Kestrel refuses other bytes, a client
    /// may trim spaces): a key with anything else could never be presented.
    /// </summary>
    public static bool IsValidKey(string key) =>
        key.Length is >= MinKeyLength and <= MaxKeyLength && key.All(c => c is > ' ' and <= '~');

    /// <summary>64 hex digits (either letter case).</summary>
    public static bool IsValidHash(string hash) => hash.Length == HashLength && hash.All(char.IsAsciiHexDigit);

    /// <summary>
    /// SHA-256 of the key's UTF-8 bytes. Unsalted and fast on purpose: a key is a random value of at least
    /// <see cref="MinKeyLength"/> characters, not a password a person chose, so no dictionary or guessing
    /// attack on the hash can succeed where a salt or a slow hash would be needed; and every request hashes
    /// the key it presents, which a slow hash would make expensive.
    /// </summary>
    public static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The key's hash as services receive it: lower-case hex of <see cref="Digest"/>.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(Digest(key));
}
