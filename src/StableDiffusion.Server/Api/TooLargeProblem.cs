using Microsoft.AspNetCore.Http.HttpResults;

namespace StableDiffusion.Server.Api;

/// <summary>413 answers for images over <c>Limits:MaxImageBytes</c>, with <c>errors</c> per field as the 400s have.</summary>
internal static class TooLargeProblem
{
    public static ProblemHttpResult For(IReadOnlyDictionary<string, string[]> errors) => TypedResults.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge, title: "Image too large",
        detail: "See errors: each names the field at fault (Limits:MaxImageBytes).",
        extensions: new Dictionary<string, object?> { ["errors"] = errors });
}
