using Microsoft.AspNetCore.Http.HttpResults;

namespace StableDiffusion.Server.Api.Replicate;

/// <summary>
/// Input validation failures as Replicate's hosted API answers them: 422, <c>{title, detail, status}</c> with a
/// <c>detail</c> that names every field at fault and why (the replicate client puts it in its error message; the AI
/// SDK's Replicate provider shows nothing else), plus Replicate's <c>invalid_fields</c> list and our <c>errors</c> map.
/// Cog itself answers 422 with FastAPI's <c>detail</c> list; that shape breaks the clients built on Replicate's API
/// (the AI SDK reads <c>detail</c> as a string), so the hosted shape is the one matched.
/// </summary>
internal static class InputProblem
{
    public const string Title = "Input validation failed";

    public static ProblemHttpResult For(IReadOnlyDictionary<string, string[]> errors)
        => Of(errors, StatusCodes.Status422UnprocessableEntity, Title);

    /// <summary>A body that is not a JSON object at all: not input validation, so 400 as before.</summary>
    public static ProblemHttpResult Malformed(IReadOnlyDictionary<string, string[]> errors)
        => Of(errors, StatusCodes.Status400BadRequest, "The request is invalid");

    private static ProblemHttpResult Of(IReadOnlyDictionary<string, string[]> errors, int status, string title)
    {
        var problem = new HttpValidationProblemDetails(errors.ToDictionary())
        {
            Status = status,
            Title = title,
            Detail = FieldMessages.Sentence(errors) + ".",
        };
        problem.Extensions["invalid_fields"] = errors
            .SelectMany(e => e.Value.Select(m => new Dictionary<string, string> { ["type"] = "invalid", ["field"] = e.Key, ["description"] = m }))
            .ToArray();
        return TypedResults.Problem(problem);
    }
}
