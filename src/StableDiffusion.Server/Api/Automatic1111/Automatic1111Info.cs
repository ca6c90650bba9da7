using System.Text.Json;
using System.Text.Json.Nodes;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Api.Automatic1111;

/// <summary>
/// The <c>info</c> string of A1111's image responses: <c>Processed.js()</c> (modules/processing.py), a JSON object
/// serialised to a string, with the same keys in the same order. <c>infotexts</c> are the parameters text each PNG
/// carries (Core's <see cref="GenerationParameters"/>, A1111's "PNG Info" format).
/// </summary>
internal static class Automatic1111Info
{
    public static string Build(GenerationRequest request, Automatic1111Request parsed, IReadOnlyList<long> seeds, string jobTimestamp)
    {
        var (model, batchSize, sampling) = (parsed.Model, parsed.BatchSize, parsed.Sampling);
        var settings = request.ToSettings(null);
        var infotexts = seeds.Select(seed => GenerationParameters.Format(settings, request.Scheduler ?? "", seed, request.Width, request.Height, model.Name)).ToArray();
        var firstSeed = seeds.Count > 0 ? seeds[0] : request.Seed;
        var info = new JsonObject
        {
            ["prompt"] = request.Prompt,
            ["all_prompts"] = Repeat(request.Prompt, seeds.Count),
            ["negative_prompt"] = request.NegativePrompt,
            ["all_negative_prompts"] = Repeat(request.NegativePrompt, seeds.Count),
            ["seed"] = firstSeed,
            ["all_seeds"] = new JsonArray(seeds.Select(s => (JsonNode?)s).ToArray()),
            // A1111 reports its subseed (drawn when -1) and subseed + k even when variations are off (strength 0).
            ["subseed"] = parsed.Subseed,
            ["all_subseeds"] = new JsonArray(seeds.Select((_, k) => (JsonNode?)(parsed.Subseed + k)).ToArray()),
            ["subseed_strength"] = 0,
            // A1111's p.width/p.height: a hires fix's first pass.
            ["width"] = settings.Width ?? request.Width,
            ["height"] = settings.Height ?? request.Height,
            ["sampler_name"] = sampling.SamplerName,
            // The schedule type's label, as A1111 1.9+ requests carry it (the infotext's "Schedule type").
            ["scheduler"] = sampling.ScheduleLabel ?? "Automatic",
            ["cfg_scale"] = request.GuidanceScale,
            ["steps"] = request.Steps,
            ["batch_size"] = batchSize,
            ["restore_faces"] = false,
            ["face_restoration_model"] = null,
            ["sd_model_name"] = model.Name,
            ["sd_model_hash"] = Automatic1111Checkpoints.Hash(model),
            ["sd_vae_name"] = null,
            ["sd_vae_hash"] = null,
            ["seed_resize_from_w"] = -1,
            ["seed_resize_from_h"] = -1,
            ["denoising_strength"] = parsed.DenoisingStrength,
            ["extra_generation_params"] = ExtraParameters(sampling, parsed.Hires),
            ["index_of_first_image"] = 0,
            ["infotexts"] = new JsonArray(infotexts.Select(t => (JsonNode?)t).ToArray()),
            ["styles"] = new JsonArray(),
            ["job_timestamp"] = jobTimestamp,
            ["clip_skip"] = 1,
            ["is_using_inpainting_conditioning"] = request.Task == GenerationTask.Inpaint,
            ["version"] = "StableDiffusion.Server",
            // Not A1111's: what was substituted for a sampler or schedule type this server does not run (A1111 1.9+
            // substitutes silently).
            ["warnings"] = new JsonArray(parsed.Warnings.Select(w => (JsonNode?)w).ToArray()),
        };
        return info.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>A1111's extra_generation_params: the schedule type and the hires fix's fields, as the infotext has them.</summary>
    private static JsonObject ExtraParameters(Automatic1111Sampling sampling, HiresFix? hires)
    {
        var extra = new JsonObject();
        if (sampling.ScheduleLabel is { } schedule)
        {
            extra["Schedule type"] = schedule;
        }

        if (hires is not null)
        {
            if (hires.Scale is { } scale)
            {
                extra["Hires upscale"] = scale;
            }
            else
            {
                extra["Hires resize"] = $"{hires.Width}x{hires.Height}";
            }

            if (hires.Steps > 0)
            {
                extra["Hires steps"] = hires.Steps;
            }

            extra["Hires upscaler"] = hires.UpscalerName;
        }

        return extra;
    }

    private static JsonArray Repeat(string value, int count) => new(Enumerable.Range(0, count).Select(_ => (JsonNode?)value).ToArray());
}
