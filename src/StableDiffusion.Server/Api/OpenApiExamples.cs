using System.Text.Json.Nodes;

namespace StableDiffusion.Server.Api;

/// <summary>An example for the API description, attached to an endpoint: <see cref="Status"/> null = the request body.</summary>
internal sealed record OpenApiExampleMetadata(string? Status, JsonNode Example);

/// <summary>An optional request header for the API description.</summary>
internal sealed record OpenApiHeaderMetadata(string Name, string Description);

internal static class OpenApiExamples
{
    public static RouteHandlerBuilder WithHeader(this RouteHandlerBuilder builder, string name, string description)
        => builder.WithMetadata(new OpenApiHeaderMetadata(name, description));

    public static RouteHandlerBuilder WithRequestExample(this RouteHandlerBuilder builder, JsonNode example)
        => builder.WithMetadata(new OpenApiExampleMetadata(null, example));

    public static RouteHandlerBuilder WithResponseExample(this RouteHandlerBuilder builder, int status, JsonNode example)
        => builder.WithMetadata(new OpenApiExampleMetadata(status.ToString(System.Globalization.CultureInfo.InvariantCulture), example));
}
