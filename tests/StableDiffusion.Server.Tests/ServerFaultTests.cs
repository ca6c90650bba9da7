using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using StableDiffusion.Server.Tests.Support;

namespace StableDiffusion.Server.Tests;

/// <summary>A real server fault is the one thing that answers 500: in the surface's shape, with the trace id.</summary>
public sealed class ServerFaultTests : IAsyncLifetime
{
    private readonly ServerFactory _server = new();
    private Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> _factory = null!;
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        // Behind every endpoint, a path that throws (reached only when no endpoint matched).
        _factory = _server.WithWebHostBuilder(builder =>
            builder.ConfigureTestServices(services => services.AddSingleton<IStartupFilter>(new ThrowingPathFilter())));
        _client = _factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Theory]
    [InlineData("/v1/_fault")]
    [InlineData("/sdapi/v1/_fault")]
    public async Task A_fault_is_a_problem_500_carrying_the_trace_id(string path)
    {
        using var response = await _client.PostAsync(path, new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(body["traceId"] is not null && body["detail"] is not null, body.ToJsonString());
        var traceId = body["traceId"]!.GetValue<string>();
        Assert.Contains(traceId, body["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain("test fault", body.ToJsonString(), StringComparison.Ordinal); // no exception text leaks
    }

    [Fact]
    public async Task A_fault_on_the_openai_surface_is_openai_shaped_with_the_trace_id()
    {
        using var response = await _client.PostAsync("/v1/images/_fault", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!.AsObject();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("server_error", error["type"]!.GetValue<string>());
        Assert.Contains("trace id 00-", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(error.ContainsKey("param") && error.ContainsKey("code"));
    }

    private sealed class ThrowingPathFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            app.Use((HttpContext context, RequestDelegate _) => context.Request.Path.Value!.EndsWith("/_fault", StringComparison.Ordinal)
                ? throw new InvalidOperationException("test fault")
                : Task.CompletedTask);
        };
    }
}
