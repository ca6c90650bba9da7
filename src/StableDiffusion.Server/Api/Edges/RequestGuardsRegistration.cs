namespace StableDiffusion.Server.Api.Edges;

/// <summary>Registration of the edge guards: every request gets a deliberate answer in its surface's shape.</summary>
internal static class RequestGuardsRegistration
{
    public static IServiceCollection AddRequestGuards(this IServiceCollection services)
    {
        // Writers are tried in registration order and ASP.NET's default one writes any path: ours goes first, wherever
        // AddProblemDetails was called, and the default keeps writing problem+json everywhere else.
        services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, OpenAiProblemWriter>());
        services.AddExceptionHandler<EdgeExceptionHandler>();
        return services;
    }

    /// <summary>After the rate limiter (a rejected request is not read) and before the endpoints.</summary>
    public static WebApplication UseRequestGuards(this WebApplication app)
    {
        app.UseMiddleware<RequestBodyGuard>();
        return app;
    }
}
