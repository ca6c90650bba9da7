using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace StableDiffusion.Server.Api.Automatic1111;

/// <summary>A1111's <c>TextToImageResponse</c>/<c>ImageToImageResponse</c>: base64 PNGs, the request, and <c>info</c> as a JSON string.</summary>
internal sealed record Automatic1111ImagesResponse(
    [property: JsonPropertyName("images")] IReadOnlyList<string> Images,
    [property: JsonPropertyName("parameters")] JsonObject Parameters,
    [property: JsonPropertyName("info")] string Info);

/// <summary>A1111's <c>ProgressResponse</c>.</summary>
internal sealed record Automatic1111Progress(
    [property: JsonPropertyName("progress")] double Progress,
    [property: JsonPropertyName("eta_relative")] double EtaRelative,
    [property: JsonPropertyName("state")] Automatic1111State State,
    [property: JsonPropertyName("current_image")] string? CurrentImage,
    [property: JsonPropertyName("textinfo")] string? TextInfo);

/// <summary>A1111's <c>shared.state.dict()</c>.</summary>
internal sealed record Automatic1111State(
    [property: JsonPropertyName("skipped")] bool Skipped,
    [property: JsonPropertyName("interrupted")] bool Interrupted,
    [property: JsonPropertyName("stopping_generation")] bool StoppingGeneration,
    [property: JsonPropertyName("job")] string Job,
    [property: JsonPropertyName("job_count")] int JobCount,
    [property: JsonPropertyName("job_timestamp")] string JobTimestamp,
    [property: JsonPropertyName("job_no")] int JobNo,
    [property: JsonPropertyName("sampling_step")] int SamplingStep,
    [property: JsonPropertyName("sampling_steps")] int SamplingSteps);

/// <summary>A1111's <c>SamplerItem</c>.</summary>
internal sealed record Automatic1111Sampler(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("aliases")] IReadOnlyList<string> Aliases,
    [property: JsonPropertyName("options")] IReadOnlyDictionary<string, string> Options);

/// <summary>A1111's <c>SchedulerItem</c> (the noise schedule a sampler runs with, A1111 1.9+).</summary>
internal sealed record Automatic1111Scheduler(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("label")] string Label,
    [property: JsonPropertyName("aliases")] IReadOnlyList<string>? Aliases,
    [property: JsonPropertyName("default_rho")] double DefaultRho,
    [property: JsonPropertyName("need_inner_model")] bool NeedInnerModel);

/// <summary>A1111's <c>SDModelItem</c>.</summary>
internal sealed record Automatic1111Model(
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("model_name")] string ModelName,
    [property: JsonPropertyName("hash")] string Hash,
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("filename")] string FileName,
    [property: JsonPropertyName("config")] string? Config);

/// <summary>A1111's <c>UpscalerItem</c>.</summary>
internal sealed record Automatic1111Upscaler(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("model_name")] string? ModelName,
    [property: JsonPropertyName("model_path")] string? ModelPath,
    [property: JsonPropertyName("model_url")] string? ModelUrl,
    [property: JsonPropertyName("scale")] double Scale);
