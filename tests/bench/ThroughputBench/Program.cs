using System.Diagnostics;
using StableDiffusion.Core.Imaging;
using StableDiffusion.Core.Models;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Synthetic;
using ThroughputBench;

// Usage: ThroughputBench [runs]   (default 10 measured runs per figure, medians reported)
int runs = args.Length > 0 ? int.Parse(args[0]) : 10;
string modelDir = Path.Combine(Path.GetTempPath(), "sd-throughput-bench-tiny");
if (!File.Exists(Path.Combine(modelDir, "model_index.json")))
{
    SyntheticModels.Build("tiny", modelDir, new SyntheticModelOptions(false, Seed: 0));
}

using var pipeline = StableDiffusionPipeline.Load(modelDir, new ModelLoadOptions { ExecutionProvider = "cpu" });
var settings = new GenerationSettings
{
    Prompt = "a photograph of an astronaut riding a horse",
    Width = 512,
    Height = 512,
    Steps = 20,
    Seed = 1,
    WatermarkPayload = "SDV2",
};

// 1. PNG encoders on three 512² images: a synthetic model's output (noise-like: compresses worst), uniform noise, and
// a photo-like image (smooth shapes + ±2 grain).
var modelOutput = pipeline.Render(settings).Images[0].Image;
var images = new (string Name, RgbImage Image)[]
{
    ("tiny-model-output", modelOutput),
    ("uniform-noise", TestImages.Noise(512)),
    ("photo-like", TestImages.PhotoLike(512)),
};
// The machine may be shared: minimums estimate the unloaded cost, medians show the spread; the load average says how shared.
Console.WriteLine($"# load average: {File.ReadAllText("/proc/loadavg").Trim()}, {Environment.ProcessorCount} CPUs");
Console.WriteLine($"# PNG encode, 512x512 RGB, {runs} runs (after 2 warm-ups)");
Console.WriteLine($"{"encoder",-44} {"image",-18} {"min ms",8} {"med ms",8} {"bytes",9}");
foreach (var (name, encode) in PngEncoders.All())
{
    foreach (var (imageName, image) in images)
    {
        var (min, median, bytes) = Measure.Runs(runs, () => encode(image).Length);
        Console.WriteLine($"{name,-44} {imageName,-18} {min,8:0.0} {median,8:0.0} {bytes,9}");
    }
}

// 2. The worker's own non-ONNX time per image. Before: everything after ONNX ran on the worker (watermark + ImageSharp
// PNG at the old settings). After: the worker renders (its non-ONNX share: tokenizer, scheduler, noise, copies) and
// hands watermark + PngWriter to the post-processing stage.
var renderOverhead = new List<double>();
var watermarkMs = new List<double>();
var oldPngMs = new List<double>();
var newPngMs = new List<double>();
var stageOverhead = new Dictionary<string, double>();
var outsideStages = new List<double>();
pipeline.Render(settings);
for (int i = 0; i < runs; i++)
{
    var onnxBefore = pipeline.Components.ToDictionary(c => c.Name, c => c.RunSeconds);
    long start = Stopwatch.GetTimestamp();
    var decoded = pipeline.Render(settings with { Seed = 100 + i });
    double wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    renderOverhead.Add(wall - decoded.OnnxRuntimeSeconds * 1000);
    outsideStages.Add(wall - decoded.StageSeconds.Values.Sum() * 1000);
    foreach (var (stage, component) in new[] { ("text_encoder", "text_encoder"), ("denoise", "unet"), ("vae_decode", "vae_decoder") })
    {
        double outside = (decoded.StageSeconds.GetValueOrDefault(stage) - (pipeline.Components.Single(c => c.Name == component).RunSeconds - onnxBefore[component])) * 1000;
        stageOverhead[stage] = Math.Min(stageOverhead.GetValueOrDefault(stage, double.MaxValue), outside);
    }
    var image = decoded.Images[0];
    var marked = image.Image with { Pixels = (byte[])image.Image.Pixels.Clone() };
    watermarkMs.Add(Measure.Once(() => InvisibleWatermark.FromText("SDV2").Embed(marked.Pixels, marked.Width, marked.Height)));
    oldPngMs.Add(Measure.Once(() => PngEncoders.ImageSharpOld(marked, image.Parameters)));
    newPngMs.Add(Measure.Once(() => PngWriter.Encode(marked, image.Parameters)));
}
double render = renderOverhead.Min(), wm = watermarkMs.Min(), oldPng = oldPngMs.Min(), newPng = newPngMs.Min();
Console.WriteLine();
Console.WriteLine($"# Worker non-ONNX time per 512x512 image (tiny model, 20 steps, CPU), minimum of {runs} (medians: render overhead {Measure.Median(renderOverhead):0.0}, watermark {Measure.Median(watermarkMs):0.0}, ImageSharp PNG {Measure.Median(oldPngMs):0.0}, PngWriter {Measure.Median(newPngMs):0.0})");
Console.WriteLine($"before: {render + wm + oldPng:0.0} ms on the worker (render overhead {render:0.0} + watermark {wm:0.0} + ImageSharp PNG {oldPng:0.0})");
Console.WriteLine($"render overhead by stage (minimum, ms outside ONNX Runtime): {string.Join(", ", stageOverhead.Select(p => $"{p.Key} {p.Value:0.0}"))}, outside any stage {outsideStages.Min():0.0} (median {Measure.Median(outsideStages):0.0})");
Console.WriteLine($"after:  {render:0.0} ms on the worker (render overhead); off the critical path: watermark {wm:0.0} + PngWriter {newPng:0.0} = {wm + newPng:0.0} ms");

// 3. Text-encoder calls on a request mix: 100 requests over 20 prompts (a few popular ones, as real traffic), the
// negative prompt empty in 85 of them and one of three stock ones otherwise.
Console.WriteLine();
Console.WriteLine("# Text-encoder calls, 100 requests, 20 distinct prompts (Zipf-like), negative prompt empty in 85%");
foreach (int entries in new[] { 0, ModelLoadOptions.DefaultPromptCacheEntries })
{
    using var p = StableDiffusionPipeline.Load(modelDir, new ModelLoadOptions { ExecutionProvider = "cpu", PromptCacheEntries = entries });
    var encoder = p.Components.Single(c => c.Name == "text_encoder");
    foreach (var (prompt, negative) in RequestMix.Create(100, seed: 7))
    {
        p.Generate(new GenerationSettings { Prompt = prompt, NegativePrompt = negative, Width = 64, Height = 64, Steps = 1, WatermarkPayload = null });
    }
    Console.WriteLine($"cache entries {entries,3}: text_encoder runs {encoder.RunCount,3}, hits {p.PromptCache.Hits,3}, misses {p.PromptCache.Misses,3}");
}
