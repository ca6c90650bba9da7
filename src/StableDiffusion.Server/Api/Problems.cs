using Microsoft.AspNetCore.Http.HttpResults;

namespace StableDiffusion.Server.Api;

/// <summary>The problem+json answers the API gives for expected failures.</summary>
internal static class Problems
{
    public static ProblemHttpResult NotFound(string what) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: what);

    public static ValidationProblem Validation(IDictionary<string, string[]> errors) => TypedResults.ValidationProblem(
        errors, title: "The request is invalid", detail: FieldMessages.Sentence(errors) + ".");

    public static ProblemHttpResult QueueFull(HttpContext context, int retryAfterSeconds, int capacity)
    {
        context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Queue full",
            detail: $"All {capacity} queue slots are taken; retry after {retryAfterSeconds} s. No prediction was created.");
    }

    public static ProblemHttpResult ShuttingDown() => TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
        title: "Shutting down", detail: "The server is shutting down and accepts no new predictions.");

    public static ProblemHttpResult TooLarge(long max) => TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "Body too large", detail: $"The request body is larger than {max} bytes (Limits:MaxBodyBytes).");
}
