using Serilog;
using StableDiffusion.Server.Api;
using StableDiffusion.Server.Api.Edges;
using StableDiffusion.Server.Backends;
using StableDiffusion.Server.Api.Automatic1111;
using StableDiffusion.Server.Api.OpenAi;
using StableDiffusion.Server.Api.Replicate;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Telemetry;
using StableDiffusion.Server.Webhooks;
using StableDiffusion.Server.Worker;

var builder = WebApplication.CreateBuilder(args);

// The one configuration file is the repository root's appsettings.json, copied next to the binaries (DESIGN §1).
// It goes first, so environment variables and the command line still override it (the listening address is its
// "Urls" key: override it with Urls=… or --urls; ASPNETCORE_URLS is host configuration and loses to it).
builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
{
    Path = "appsettings.json",
    Optional = false,
    ReloadOnChange = false,
    FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(AppContext.BaseDirectory),
});

// `--role api|worker|all` is Server:Role (DESIGN §9); added last, so it wins like any command-line setting.
builder.Configuration.AddCommandLine(args, new Dictionary<string, string> { ["--role"] = "Server:Role" });
var role = ServerOptions.RoleOf(builder.Configuration);

builder.Services.AddServerOptions();
builder.AddServerTelemetry();
// Hosted services stop in reverse order: the workers stop before the webhook drain, which delivers what they caused.
builder.Services.AddJobs().AddBackends(builder.Configuration, role).AddWebhooks().AddGeneration();
if (role != ServerRole.Api)
{
    builder.Services.AddWorkers(builder.Configuration);
}
builder.Services.AddApiEdges();
builder.Services.AddRequestGuards();
builder.Services.AddUploadedFiles();
builder.Services.AddAutomatic1111();
builder.Services.AddServerOpenApi();

var app = builder.Build();

app.UseForwardedHeadersFromConfig();
app.UseSerilogRequestLogging();
app.MapOperations();
if (role != ServerRole.Worker)
{
    app.UseApiEdges();
    app.UseRequestGuards();
    app.UsePlayground();
    app.MapServerOpenApi();
    app.MapV1().MapPredictions().MapModels().MapFiles().MapWebhooks();
    app.MapOpenAiImages(); app.MapAutomatic1111();
}

app.Run();

/// <summary>Entry point type, visible to WebApplicationFactory.</summary>
public partial class Program;
