using System.Diagnostics;
using System.Net;
using System.Text;

namespace NexusCore.Bench.Load;

/// <summary>
/// The harness's own load generator, for what wrk cannot do: exact request sequences (Zipf with the
/// ideal hit rate counted), bodies that must be unique (batches), streamed exports, and a burst of
/// requests released at once (the stampede). Also stands in for wrk when wrk is not installed.
/// </summary>
public sealed class HttpLoad : IDisposable
{
    private readonly HttpClient _client;

    public HttpLoad(Uri baseUrl, string? apiKey, int maxConnections)
    {
        _client = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
        })
        {
            BaseAddress = baseUrl,
            Timeout = TimeSpan.FromMinutes(5),
        };
        if (apiKey is not null)
        {
            _client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }
    }

    public HttpClient Client => _client;

    /// <summary>
    /// <paramref name="connections"/> loops, each sending its next request as soon as the previous one is
    /// answered (or, with <paramref name="thinkMs"/> above 0, after a random wait of that mean, exponential),
    /// for <paramref name="duration"/>. A response outside 2xx/3xx counts as an error.
    /// </summary>
    public async Task<LoadResult> ClosedLoopAsync(int connections, TimeSpan duration, Func<int, HttpRequestSpec> next, CancellationToken ct, double thinkMs = 0)
    {
        var latencies = new List<double>[connections];
        long errors = 0;
        var watch = Stopwatch.StartNew();
        var loops = Enumerable.Range(0, connections).Select(async worker =>
        {
            var mine = latencies[worker] = [];
            var random = new Random(worker + 17);
            while (watch.Elapsed < duration && !ct.IsCancellationRequested)
            {
                if (thinkMs > 0)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(-Math.Log(1 - random.NextDouble()) * thinkMs), ct);
                }

                var spec = next(worker);
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await SendAsync(spec, ct);
                    await response.Content.CopyToAsync(Stream.Null, ct);
                    if ((int)response.StatusCode >= 400)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref errors);
                }

                mine.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
            }
        });
        await Task.WhenAll(loops);
        return LoadResult.FromLatencies(watch.Elapsed.TotalSeconds, errors, latencies.SelectMany(l => l).ToList());
    }

    public Task<HttpResponseMessage> SendAsync(HttpRequestSpec spec, CancellationToken ct, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        var request = new HttpRequestMessage(new HttpMethod(spec.Method), spec.Path);
        if (spec.Body is not null)
        {
            request.Content = new StringContent(spec.Body, Encoding.UTF8, "application/json");
        }

        return _client.SendAsync(request, completion, ct);
    }

    /// <summary>Opens <paramref name="count"/> connections ahead of a burst, so the burst measures requests, not TCP handshakes.</summary>
    public async Task WarmConnectionsAsync(int count, string path, CancellationToken ct)
    {
        await Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
        {
            using var response = await _client.GetAsync(path, ct);
        }));
    }

    public void Dispose() => _client.Dispose();
}
