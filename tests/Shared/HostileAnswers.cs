using System.Text.Json.Nodes;

namespace StableDiffusion.Tests.Shared;

/// <summary>
/// The rule every hostile answer is held to: no 5xx; the expected status when the case names one; a 4xx within
/// <c>maxErrorTime</c>, as a JSON body in the surface's shape (problem+json with a title, or OpenAI's
/// <c>{error:{message,type,param,code}}</c>) naming the field when the case names one. 2xx answers (inputs that turn
/// out valid, e.g. "12" for an integer where the surface coerces strings) may take the time a generation takes.
/// </summary>
public static class HostileAnswers
{
    /// <summary>What is wrong with an answer, or null.</summary>
    public static string? Check(HostileCase hostile, int status, string? mediaType, string body, TimeSpan elapsed, TimeSpan maxErrorTime)
    {
        if (status >= 500)
        {
            return $"{status}: {Truncate(body)}";
        }
        if (hostile.Status is { } expected && status != expected)
        {
            return $"expected {expected}, got {status}: {Truncate(body)}";
        }
        if (status < 400)
        {
            return null;
        }
        if (elapsed > maxErrorTime)
        {
            return $"{status} took {elapsed.TotalMilliseconds:F0} ms";
        }
        if (body.Length == 0 && status is 400 or 414 or 431)
        {
            // Kestrel's own answer to a request it cannot parse (NUL in the path, a 100 KB URL, header bombs), sent
            // before any of our code runs; every answer our code makes has a body (status-code pages fill empty ones).
            return null;
        }
        JsonObject? json;
        try
        {
            json = JsonNode.Parse(body) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            json = null;
        }
        if (json is null)
        {
            return $"{status} with a body that is not a JSON object: {Truncate(body)}";
        }
        string? named;
        if (hostile.Surface == "openai")
        {
            if (json["error"] is not JsonObject error || error["message"] is not JsonValue || error["type"] is not JsonValue
                || !error.ContainsKey("param") || !error.ContainsKey("code"))
            {
                return $"{status} not OpenAI-shaped: {Truncate(body)}";
            }
            named = error["param"]?.GetValue<string>();
        }
        else
        {
            if (mediaType != "application/problem+json" || json["title"] is null)
            {
                return $"{status} not problem+json ({mediaType}): {Truncate(body)}";
            }
            named = json["errors"] is JsonObject errors ? string.Join(",", errors.Select(e => e.Key)) : null;
        }
        if (hostile.Field is { } field && (named is null || !named.Split(',').Any(n => n.StartsWith(field, StringComparison.Ordinal))))
        {
            return $"{status} does not name '{field}' (named: {named ?? "nothing"}): {Truncate(body)}";
        }
        return null;
    }

    private static string Truncate(string text) => text.Length > 300 ? text[..300] + "…" : text;
}
