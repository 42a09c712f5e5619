using NexusCore.PerfApi.Extensions;
using NexusCore.ServiceDefaults;
using NexusCore.PerfApi.Contract;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddWebDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseApiPipeline("NexusCore Performance API", config => config.UsePerfApiRequestContract());
app.MapDefaultEndpoints();

app.Run();

/// <summary>Entry point marker for tests.</summary>
public partial class Program;
