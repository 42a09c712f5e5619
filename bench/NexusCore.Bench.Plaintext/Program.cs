// The ceiling for any HTTP endpoint on this machine: Kestrel and one route that writes a constant,
// as in TechEmpower's plaintext test. No logging, no telemetry, no middleware.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();

var app = builder.Build();
app.MapGet("/plaintext", () => Results.Text("Hello, World!", "text/plain"));
app.Run();
