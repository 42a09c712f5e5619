using System.Globalization;

namespace NexusCore.ClientsApi.Features.Clients;

/// <summary>A client's strong ETag: its id and version, which every update bumps.</summary>
public static class ClientETag
{
    public static string For(Client client) => $"\"{client.Id}.{client.Version}\"";

    /// <summary>
    /// What an <c>If-Match</c> value asks of this client (RFC 9110 §13.1.1): <paramref name="versions"/>
    /// is null for <c>*</c> (any current version), else the versions its entity tags name for this
    /// client, none when they all name other clients. False when the value is not <c>*</c> or a list of
    /// entity tags; ASP.NET Core's <c>EntityTagHeaderValue.TryParseStrictList</c> is not used because it
    /// accepts <c>"a b"</c> and a <c>*</c> inside a list, which RFC 9110's grammar does not. A weak tag
    /// (<c>W/"…"</c>, as a compressing proxy may turn ours into) counts as its strong form: the version
    /// names one state exactly, so the byte-for-byte guarantee strong comparison protects holds either way.
    /// </summary>
    public static bool TryParseIfMatch(string header, long id, out int[]? versions)
    {
        versions = null;
        var value = header.Trim();
        if (value == "*")
        {
            return true;
        }

        var prefix = $"\"{id.ToString(CultureInfo.InvariantCulture)}.";
        var named = new List<int>();
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries))
        {
            var tag = part.StartsWith("W/", StringComparison.Ordinal) ? part[2..] : part;
            if (tag.Length < 2 || tag[0] != '"' || tag[^1] != '"' || tag.AsSpan(1, tag.Length - 2).ContainsAny('"', ' '))
            {
                return false;
            }

            if (tag.StartsWith(prefix, StringComparison.Ordinal)
                && int.TryParse(tag.AsSpan(prefix.Length, tag.Length - prefix.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            {
                named.Add(version);
            }
        }

        versions = named.ToArray();
        return true;
    }
}
