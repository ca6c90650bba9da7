using System.CommandLine;
using StableDiffusion.Core.Imaging;
using StableDiffusion.Core.Models;
using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Cli;

/// <summary>
/// The image-conditioned verbs — <c>sd img2img</c>, <c>sd inpaint</c>, <c>sd upscale</c>, <c>sd depth</c> — sharing
/// <see cref="GenerationOptions"/> and <see cref="GenerateCommand.Run"/>. Input images go through
/// <see cref="ImageDecoder"/> (PNG/JPEG/WebP, size limits); any bad input exits 2 with one line.
/// </summary>
public static class ImageTaskCommand
{
    public static Command ImageToImage() => Create("img2img", "Image to image: redraw --image guided by the prompt", GenerationTask.ImageToImage, defaultStrength: 0.8);

    public static Command Inpaint() => Create("inpaint", "Inpainting: repaint the white part of --mask in --image", GenerationTask.Inpaint, defaultStrength: 1.0);

    public static Command Upscale() => Create("upscale", "x4 upscaling of --image (x4 upscaler models)", GenerationTask.Upscale, defaultStrength: null);

    public static Command Depth() => Create("depth", "Depth to image: redraw --image keeping its depth (depth models)", GenerationTask.DepthToImage, defaultStrength: 0.8);

    private static Command Create(string name, string description, GenerationTask task, double? defaultStrength)
    {
        var shared = new GenerationOptions();
        var image = new Option<string>("--image") { Description = "Input image (PNG, JPEG or WebP)", Required = true };
        var mask = new Option<string>("--mask") { Description = "Mask image: white = repaint, black = keep", Required = true };
        var strength = new Option<double>("--prompt-strength")
        {
            Description = "How much to change the image, 0 (keep) to 1 (ignore it)",
            DefaultValueFactory = _ => defaultStrength ?? 0.8,
        };
        var noiseLevel = new Option<int>("--noise-level") { Description = "Noise added to the low-res image (class_labels)", DefaultValueFactory = _ => 20 };
        var depthImage = new Option<string?>("--depth-image") { Description = "Depth map image (white = near); default: estimated by the model's depth_estimator" };
        var safety = new Option<bool>("--safety-checker") { Description = "Load safety_checker/ and black out flagged images" };
        var output = new Option<string>("--out") { Description = "Output folder", Required = true };

        var command = new Command(name, description);
        shared.AddTo(command);
        command.Options.Add(image);
        if (task == GenerationTask.Inpaint)
        {
            command.Options.Add(mask);
        }

        if (defaultStrength is not null)
        {
            command.Options.Add(strength);
        }

        if (task == GenerationTask.Upscale)
        {
            command.Options.Add(noiseLevel);
        }

        if (task == GenerationTask.DepthToImage)
        {
            command.Options.Add(depthImage);
        }

        command.Options.Add(safety);
        command.Options.Add(output);
        command.SetAction(parse =>
        {
            // Every argument is checked before the model loads (bad input fails fast, exit 2).
            string outDir = parse.GetRequiredValue(output);
            var settings = shared.Settings(parse);
            string modelDirectory = shared.ModelDirectory(parse);
            var load = shared.LoadOptions(parse) with { SafetyChecker = parse.GetValue(safety) };
            double promptStrength = parse.GetValue(strength);
            if (!double.IsFinite(promptStrength) || promptStrength is < 0 or > 1)
            {
                throw new UsageException($"--prompt-strength must be between 0 and 1, got {promptStrength}");
            }

            int level = parse.GetValue(noiseLevel);
            if (level is < 0 or > 1000)
            {
                throw new UsageException($"--noise-level must be between 0 and 1000, got {level}");
            }

            var input = ReadImage(parse.GetRequiredValue(image), "--image");
            var maskImage = task == GenerationTask.Inpaint ? ReadImage(parse.GetRequiredValue(mask), "--mask") : null;
            var depth = task == GenerationTask.DepthToImage && parse.GetValue(depthImage) is { } depthPath ? ReadImage(depthPath, "--depth-image") : null;

            using var logging = ConsoleLogging.Create(verbose: false);
            using var pipeline = StableDiffusionPipeline.Load(modelDirectory, load, logging.CreateLogger("sd"));
            if (!pipeline.Info.Tasks.Contains(task))
            {
                throw new UsageException(ModelTasks.Unsupported(pipeline.Info, task));
            }

            settings = GenerationOptions.ForModel(settings, pipeline) with
            {
                Task = task,
                Image = input,
                Mask = maskImage,
                DepthImage = depth,
                PromptStrength = promptStrength,
                NoiseLevel = level,
            };
            try
            {
                return GenerateCommand.Run(pipeline, settings, outDir, ConsoleProgress.From(parse, shared.Progress, $"sd {name}"), CancellationToken.None);
            }
            catch (ArgumentException ex)
            {
                // The pipeline's own checks of the request (noise level over the model's maximum, missing depth map …).
                throw new UsageException(ex.Message);
            }
        });
        return command;
    }

    /// <summary>Reads and decodes an input image file; every failure is a one-line usage error naming the option.</summary>
    public static RgbImage ReadImage(string path, string option)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            throw new UsageException($"{option}: file '{path}' does not exist");
        }

        var limits = ImageLimits.Default;
        if (file.Length > limits.MaxBytes)
        {
            throw new UsageException($"{option}: the image is {file.Length} bytes; the limit is {limits.MaxBytes} bytes.");
        }

        try
        {
            return ImageDecoder.Decode(File.ReadAllBytes(path), option, limits);
        }
        catch (ImageInputException ex)
        {
            throw new UsageException(ex.Message);
        }
    }
}
