using System.Globalization;

namespace NexusCore.ClientsApi.Features.Clients;

/// <summary>A client's strong ETag: its id and version, which every update bumps.</summary>
public static class ClientETag
{
    public static string For(Client client) => $"\"{client.Id}.{client.Version}\"";

    /// <summary>The version an <c>If-Match</c> value names for this client, or null when it is not this client's ETag.</summary>
    public static int? TryParseVersion(string header, long id)
    {
        var value = header.Trim();
        if (value.StartsWith("W/", StringComparison.Ordinal))
        {
            value = value[2..];
        }

        var prefix = $"\"{id.ToString(CultureInfo.InvariantCulture)}.";
        if (!value.StartsWith(prefix, StringComparison.Ordinal) || !value.EndsWith('"'))
        {
            return null;
        }

        return int.TryParse(value.AsSpan(prefix.Length, value.Length - prefix.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? version
            : null;
    }
}
