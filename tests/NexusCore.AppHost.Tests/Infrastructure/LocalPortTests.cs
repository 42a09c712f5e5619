using System.Net;
using System.Net.Sockets;
using NexusCore.AppHost.Infrastructure;

namespace NexusCore.AppHost.Tests.Infrastructure;

/// <summary>
/// Local mode picks Postgres' and Redis' ports itself, seconds before they bind them; the picks must be
/// free and outside the kernel's ephemeral range, from which the orchestrator's ports and every
/// outgoing connection's local port are taken meanwhile.
/// </summary>
[NoStack]
public sealed class LocalPortTests
{
    private static readonly int EphemeralStart = int.Parse(
        File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split('\t', ' ')[0], System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void TheEphemeralRangeIsReadFromTheKernel()
    {
        Assert.Equal(EphemeralStart, LocalRunFolder.EphemeralPortRangeStart());
    }

    [Fact]
    public void PicksLieBelowTheEphemeralRangeAndCanBeBound()
    {
        var picks = Enumerable.Range(0, 50).Select(_ => LocalRunFolder.FreeLoopbackPort()).ToList();

        Assert.All(picks, port => Assert.InRange(port, LocalRunFolder.LowestPort, EphemeralStart - 1));
        Assert.All(picks, port => Listen(port).Dispose());
        Assert.True(picks.Distinct().Count() > 1, "50 picks were all the same port");
    }

    [Fact]
    public void APortInUseIsNeverPickedAndAFullRangeFallsBackToTheOperatingSystemsChoice()
    {
        // Every port of a 1,000-port range is taken: listened on by these sockets, as a server would, or
        // already by someone else.
        var below = LocalRunFolder.LowestPort + 1000;
        var held = new List<Socket>();
        try
        {
            for (var port = LocalRunFolder.LowestPort; port < below; port++)
            {
                try
                {
                    held.Add(Listen(port));
                }
                catch (SocketException)
                {
                    // Someone else's already.
                }
            }

            var pick = LocalRunFolder.FreeLoopbackPort(below);

            Assert.True(pick >= below, $"picked {pick}, inside the taken range");
            Listen(pick).Dispose();
        }
        finally
        {
            held.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public void ARangeTooSmallToPickFromFallsBackToTheOperatingSystemsChoice()
    {
        var pick = LocalRunFolder.FreeLoopbackPort(LocalRunFolder.LowestPort + 10);

        Assert.True(pick >= EphemeralStart, $"picked {pick}");
    }

    /// <summary>A socket bound to 127.0.0.1:<paramref name="port"/> and listening, as a server's; throws when the port is taken.</summary>
    private static Socket Listen(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            socket.Listen(1);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
