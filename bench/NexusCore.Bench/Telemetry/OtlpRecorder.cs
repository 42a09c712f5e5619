using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace NexusCore.Bench.Telemetry;

/// <summary>
/// A minimal OTLP/HTTP endpoint that keeps every body it is sent (as sent: protobuf, possibly gzip) and answers
/// 200 with an empty message. A ClientsApi variant pointed at it gives the harness the exact telemetry of a
/// known load: the spans to compute exact percentiles from, and real payloads to replay into PerfApi.
/// </summary>
public sealed class OtlpRecorder : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly CancellationTokenSource _stop = new();

    public OtlpRecorder()
    {
        Port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public Uri Url => new($"http://127.0.0.1:{Port}/");

    public ConcurrentQueue<RecordedPayload> Traces { get; } = new();

    public ConcurrentQueue<RecordedPayload> Metrics { get; } = new();

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested || !_listener.IsListening)
            {
                return;
            }

            try
            {
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                var payload = new RecordedPayload(body.ToArray(), context.Request.Headers["Content-Encoding"], DateTimeOffset.UtcNow);
                var path = context.Request.Url?.AbsolutePath ?? "";
                if (path.EndsWith("/v1/traces", StringComparison.Ordinal))
                {
                    Traces.Enqueue(payload);
                }
                else if (path.EndsWith("/v1/metrics", StringComparison.Ordinal))
                {
                    Metrics.Enqueue(payload);
                }

                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.ContentLength64 = 0;
            }
            catch (Exception) when (!_stop.IsCancellationRequested)
            {
                context.Response.StatusCode = 500;
            }
            finally
            {
                context.Response.Close();
            }
        }
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (ObjectDisposedException)
        {
        }
    }
}

/// <summary>One OTLP request body as it arrived.</summary>
public sealed record RecordedPayload(byte[] Body, string? ContentEncoding, DateTimeOffset ReceivedAt);
