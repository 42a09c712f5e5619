using System.ComponentModel.DataAnnotations;

namespace NexusCore.ClientsApi.Features.Clients.Query;

/// <summary>
/// Section <c>Cursors</c>: the secret pagination cursors are encrypted and authenticated with (through
/// keys derived from it, see <see cref="CursorProtector"/>), also the root of cache-key digests
/// (<see cref="Caching.CacheKeys"/>). Every replica needs the same one; the AppHost passes its secret
/// parameter <c>cursor-signing-key</c>.
/// </summary>
public sealed class CursorOptions
{
    public const string Section = "Cursors";

    [Required, MinLength(32)]
    public string SigningKey { get; init; } = "";
}
