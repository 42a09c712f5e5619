using System.Globalization;

namespace NexusCore.ClientsApi.Features.Clients;

/// <summary>A client's strong ETag: its id and version, which every update bumps.</summary>
public static class ClientETag
{
    public static string For(Client client) => $"\"{client.Id}.{client.Version}\"";

    /// <summary>
    /// What an <c>If-Match</c> value asks of this client (RFC 9110 §13.1.1): <c>*</c> (any current version),
    /// or the versions its entity tags name for this client, none when they all name other clients.
    /// Null when the value is not <c>*</c> or a list of entity tags. A weak tag (<c>W/"…"</c>, as a
    /// compressing proxy may turn ours into) counts as its strong form: the version names one state
    /// exactly, so the byte-for-byte guarantee strong comparison protects holds either way.
    /// </summary>
    public static IfMatch? ParseIfMatch(string header, long id)
    {
        var value = header.Trim();
        if (value == "*")
        {
            return IfMatch.Any;
        }

        var prefix = $"\"{id.ToString(CultureInfo.InvariantCulture)}.";
        var versions = new List<int>();
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries))
        {
            var tag = part.StartsWith("W/", StringComparison.Ordinal) ? part[2..] : part;
            if (tag.Length < 2 || tag[0] != '"' || tag[^1] != '"' || tag.AsSpan(1, tag.Length - 2).ContainsAny('"', ' '))
            {
                return null;
            }

            if (tag.StartsWith(prefix, StringComparison.Ordinal)
                && int.TryParse(tag.AsSpan(prefix.Length, tag.Length - prefix.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            {
                versions.Add(version);
            }
        }

        return new IfMatch(versions.ToArray());
    }
}

/// <summary>A parsed <c>If-Match</c>: <see cref="Versions"/> null for <c>*</c>, else the versions that satisfy it (maybe none).</summary>
public sealed record IfMatch(int[]? Versions)
{
    public static readonly IfMatch Any = new((int[]?)null);
}
