using NexusCore.PerfApi.Extensions;
using NexusCore.ServiceDefaults;
using NexusCore.PerfApi.Contract;
using NexusCore.PerfApi.Console;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddWebDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseApiPipeline("NexusCore Performance API", config => config.UsePerfApiRequestContract());
// The operator's console (/console): server-rendered pages of the same figures, signed in with a cookie.
app.MapConsole();
app.MapDefaultEndpoints();

app.Run();

/// <summary>Entry point marker for tests.</summary>
public partial class Program;
