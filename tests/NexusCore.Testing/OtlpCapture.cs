using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace NexusCore.Testing;

/// <summary>
/// A stand-in OTLP/HTTP endpoint that keeps every payload it receives, so a test can search what a
/// service really emitted (protobuf stores strings as raw UTF-8: a substring search finds any value).
/// </summary>
public sealed class OtlpCapture : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<(string Path, byte[] Body)> _payloads = new();
    private readonly Task _loop;

    public OtlpCapture()
    {
        Port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public int Count(string path) => _payloads.Count(p => p.Path == path);

    /// <summary>The bodies received on <paramref name="path"/> (<c>/v1/traces</c>, <c>/v1/metrics</c>, <c>/v1/logs</c>) so far, in order.</summary>
    public IReadOnlyList<byte[]> Payloads(string path) => _payloads.Where(p => p.Path == path).Select(p => p.Body).ToList();

    /// <summary>True when any payload so far contains <paramref name="text"/> as UTF-8 bytes.</summary>
    public bool Contains(string text)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        return _payloads.Any(p => p.Body.AsSpan().IndexOf(needle) >= 0);
    }

    /// <summary>Where <paramref name="text"/> appears: the payload's path and the printable bytes around it.</summary>
    public string Where(string text)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        var found = new List<string>();
        foreach (var (path, body) in _payloads)
        {
            var at = body.AsSpan().IndexOf(needle);
            if (at >= 0)
            {
                var from = Math.Max(0, at - 120);
                var around = body.AsSpan(from, Math.Min(body.Length - from, 240 + needle.Length)).ToArray();
                found.Add($"{path}: {new string(around.Select(b => b is >= 32 and < 127 ? (char)b : '.').ToArray())}");
            }
        }

        return string.Join(Environment.NewLine, found.Take(5));
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (HttpListenerException)
        {
            // The listener was stopped while waiting for a request.
        }

        _listener.Close();
    }

    private async Task AcceptAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            _payloads.Enqueue((context.Request.Url!.AbsolutePath, body.ToArray()));
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
