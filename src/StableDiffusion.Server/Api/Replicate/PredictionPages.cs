using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Jobs;

using StableDiffusion.Server.Predictions;

namespace StableDiffusion.Server.Api.Replicate;

/// <summary><c>GET /v1/predictions</c>: newest first, with Replicate's opaque <c>next</c>/<c>previous</c> cursors.</summary>
internal static class PredictionPages
{
    public static async Task<Results<Ok<PredictionPage>, ValidationProblem>> ListAsync(HttpContext context, JobStore store, LimitsOptions limits, string? owner, string? cursor, int? pageSize)
    {
        var size = pageSize ?? limits.MaxPageSize;
        if (size < 1 || size > limits.MaxPageSize)
        {
            return Problems.Validation(new Dictionary<string, string[]> { ["page_size"] = [$"must be between 1 and {limits.MaxPageSize}"] });
        }
        long? before = null;
        long? after = null;
        if (cursor is not null)
        {
            if (!TryDecodeCursor(cursor, out var direction, out var sequence))
            {
                return Problems.Validation(new Dictionary<string, string[]> { ["cursor"] = ["is not a cursor this server issued"] });
            }
            if (direction == 'b') before = sequence; else after = sequence;
        }
        IReadOnlyList<Job> page;
        bool older;
        bool newer;
        if (after is { } a)
        {
            (page, newer) = await store.PageNewerAsync(owner, a, size);
            older = page.Count > 0 && (await store.PageAsync(owner, page[^1].Sequence, 1)).Page.Count > 0;
        }
        else
        {
            (page, older) = await store.PageAsync(owner, before, size);
            newer = page.Count > 0 && (await store.PageNewerAsync(owner, page[0].Sequence, 1)).Page.Count > 0;
        }
        var baseUrl = $"{PublicUrls.BaseUrl(context.Request)}/v1/predictions?page_size={size}&cursor=";
        var next = older && page.Count > 0 ? baseUrl + EncodeCursor('b', page[^1].Sequence) : null;
        var previous = page.Count > 0 && (before is not null || after is not null) && newer
            ? baseUrl + EncodeCursor('a', page[0].Sequence) : null;
        return TypedResults.Ok(new PredictionPage(next, previous, page.Select(PredictionMapper.ToResponse).ToArray()));
    }

    private static string EncodeCursor(char direction, long sequence)
        => Convert.ToBase64String(Encoding.ASCII.GetBytes($"{direction}{sequence}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryDecodeCursor(string cursor, out char direction, out long sequence)
    {
        direction = default;
        sequence = 0;
        try
        {
            var padded = cursor.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var text = Encoding.ASCII.GetString(Convert.FromBase64String(padded));
            direction = text.Length > 0 ? text[0] : default;
            return direction is 'a' or 'b' && long.TryParse(text.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out sequence);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
