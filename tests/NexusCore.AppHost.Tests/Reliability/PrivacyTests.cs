using System.Net;
using System.Net.Http.Json;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace NexusCore.AppHost.Tests.Reliability;

[Collection(FaultCollection.Name)]
public sealed class PrivacyTests(FaultStack stack)
{
    [Fact]
    public async Task NamesAndEmailsNeverReachLogsSpansOrMetrics()
    {
        var token = Guid.NewGuid().ToString("N")[..12];
        var name = $"Privatename{token}";
        var email = $"private.{token}@example.com";
        var writer = stack.CreateClient("clients-api", "writer");
        var reader = stack.CreateClient("clients-api", "reader");

        // A workload touching every route with the secret values, including failures that carry them.
        var created = await writer.PostAsJsonAsync("/api/v1/clients", new { name, email, programType = "PRIME" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<IdOnly>())!.Id;
        Assert.Equal(HttpStatusCode.Conflict, (await writer.PostAsJsonAsync("/api/v1/clients", new { name, email = email.ToUpperInvariant(), programType = "PRIME" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await writer.PostAsJsonAsync("/api/v1/clients", new { name, email = $"not-an-email-{token}", programType = "PRIME" })).StatusCode);
        await reader.GetAsync($"/api/v1/clients/{id}");
        await writer.PatchAsJsonAsync($"/api/v1/clients/{id}", new { name = name + "x" });
        await reader.GetAsync($"/api/v1/optimized/clients/search/advanced?q={name}&count=exact");
        await reader.GetAsync($"/api/v1/optimized/clients/search/advanced?q={Uri.EscapeDataString(email)}");
        await reader.GetAsync($"/api/v1/clients?status=active&cursor={name}");
        await writer.PostAsJsonAsync("/api/v1/optimized/clients/batch", new
        {
            mode = "perItem",
            items = new object[]
            {
                new { op = "upsert", name, email, programType = "LONGEVITY" },
                new { op = "create", name, email = $"second.{token}@example.com", programType = "PRIME" },
                new { op = "create", name, email, programType = "PRIME" },
            },
        });
        await stack.CreateClient("clients-api", "admin").GetAsync($"/api/v1/optimized/clients/bulk-export?q={name}");
        var marker = $"/api/v1/clients/{id}";
        await reader.GetAsync(marker + "?flush=1");

        // Telemetry is batched: wait until a trace naming the last request's route has arrived.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!stack.Capture.Contains(marker) || stack.Capture.Count("/v1/logs") == 0 || stack.Capture.Count("/v1/metrics") == 0)
        {
            await Task.Delay(200, deadline.Token);
        }

        foreach (var secret in new[] { token, name, email })
        {
            Assert.False(stack.Capture.Contains(secret), $"'{secret}' was exported in telemetry:{Environment.NewLine}{stack.Capture.Where(secret)}");
        }

        var logs = stack.App.Services.GetRequiredService<ResourceLoggerService>();
        foreach (var resource in new[] { "clients-api", "perf-api", "postgres" })
        {
            var lines = new List<string>();
            using var window = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await foreach (var batch in logs.WatchAsync(resource).WithCancellation(window.Token))
                {
                    lines.AddRange(batch.Select(l => l.Content));
                }
            }
            catch (OperationCanceledException)
            {
                // Read everything logged so far.
            }

            Assert.DoesNotContain(lines, l => l.Contains(token, StringComparison.Ordinal));
        }
    }

    private sealed record IdOnly(long Id);
}
