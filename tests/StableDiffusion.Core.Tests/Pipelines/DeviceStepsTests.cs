using StableDiffusion.Core.Models;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Core.Schedulers;

namespace StableDiffusion.Core.Tests.Pipelines;

/// <summary>
/// Guidance and the scheduler step on the device (<see cref="DeviceSteps"/>): the same step graphs run here on the CPU
/// provider with host buffers, against the host loop that stays the CPU default. Each image must be its host run's up to
/// float rounding (≤ 1 level on ≥ 99.9 % of values), and a run must move no latents between host and device per step.
/// </summary>
public sealed class DeviceStepsTests
{
    private static readonly GenerationSettings Small = new()
    {
        Prompt = "a lighthouse at dusk",
        NegativePrompt = "blurry",
        Width = 64,
        Height = 48,
        Steps = 6,
        Seed = 7,
        NumOutputs = 2,
        WatermarkPayload = null,
    };

    private static StableDiffusionPipeline Load(string preset, bool deviceSteps, bool fp16 = false) =>
        StableDiffusionPipeline.Load(SyntheticModelCache.Get(preset, fp16),
            new ModelLoadOptions { ExecutionProvider = "cpu", IoBinding = deviceSteps, DeviceSteps = deviceSteps });

    public static TheoryData<string> Schedulers() => [.. SchedulerFactory.Names];

    [Theory]
    [MemberData(nameof(Schedulers))]
    public void Every_scheduler_steps_on_the_device_as_on_the_host(string scheduler)
    {
        using var host = Load("tiny", deviceSteps: false);
        using var device = Load("tiny", deviceSteps: true);
        var settings = Small with { Scheduler = scheduler };

        var expected = host.Generate(settings);
        var memory = device.UNet.Bindings!.Memory;
        long outBefore = memory.BytesOut;
        var actual = device.Generate(settings);

        for (int k = 0; k < settings.NumOutputs; k++)
        {
            TestImages.AssertWithinOneLevel(expected.Images[k], actual.Images[k]);
        }

        // The latents came back once, at the end: 2 images × 4 × 6 × 8 floats.
        Assert.Equal(2 * 4 * 6 * 8 * sizeof(float), memory.BytesOut - outBefore);
        // The step graphs are ONNX Runtime time too: listed with the components and counted in the run's total.
        var steps = device.Components.Where(c => c.Name.StartsWith("latent_", StringComparison.Ordinal)).ToList();
        Assert.Equal(["latent_guide", "latent_guide_cfg", "latent_combine"], steps.Select(c => c.Name));
        Assert.True(steps[1].RunSeconds > 0 && steps[2].RunSeconds > 0);
        // This pipeline's first run: its ONNX Runtime time is every component's, step graphs included.
        Assert.Equal(device.Components.Sum(c => c.RunSeconds), actual.OnnxRuntimeSeconds, 9);
    }

    [Theory]
    [InlineData("tiny", true, null)]
    [InlineData("tiny-v", false, "K_EULER_ANCESTRAL")]
    [InlineData("tiny-sd1", false, "DPMSolverMultistep")]
    public void Float16_io_v_prediction_and_sd1_step_on_the_device_as_on_the_host(string preset, bool fp16, string? scheduler)
    {
        using var host = StableDiffusionPipeline.Load(SyntheticModelCache.Get(preset, fp16), new ModelLoadOptions { ExecutionProvider = "cpu" });
        using var device = Load(preset, deviceSteps: true, fp16);
        var settings = Small with { Scheduler = scheduler };

        var expected = host.Generate(settings);
        var actual = device.Generate(settings);
        // Without guidance only the conditional half runs: the guide graph without the scale.
        var unguided = device.Generate(settings with { GuidanceScale = 1.0, Seed = 8 });

        Assert.True(device.Info.DeviceSteps);
        TestImages.AssertWithinOneLevel(expected.Images[1], actual.Images[1]);
        TestImages.AssertWithinOneLevel(host.Generate(settings with { GuidanceScale = 1.0, Seed = 8 }).Images[0], unguided.Images[0]);
    }

    [Fact]
    public void Per_step_only_the_timestep_goes_in_and_ancestral_noise_as_drawn()
    {
        using var device = Load("tiny", deviceSteps: true);
        var memory = device.UNet.Bindings!.Memory;
        device.Generate(Small with { Steps = 2 }); // buffers of this shape exist from here on
        const int latents = 2 * 4 * 6 * 8 * sizeof(float);

        long before = memory.BytesIn;
        device.Generate(Small with { Steps = 20, Scheduler = "K_EULER" });
        long euler = memory.BytesIn - before;
        before = memory.BytesIn;
        device.Generate(Small with { Steps = 20, Scheduler = "K_EULER_ANCESTRAL" });
        long ancestral = memory.BytesIn - before;

        // In: the prompt embeddings and the starting latents once, then 4 bytes of timestep per call; the ancestral
        // sampler adds one noise draw per step, the latents' size (drawn on the host from the job's generator).
        long hidden = 2 * 2 * 77 * device.Prompts.HiddenSize * sizeof(float);
        Assert.Equal(hidden + latents + 20 * 4, euler);
        Assert.Equal(euler + 20 * latents, ancestral);
    }

    [Fact]
    public void Image_to_image_starts_part_way_on_the_device()
    {
        using var host = Load("tiny", deviceSteps: false);
        using var device = Load("tiny", deviceSteps: true);
        var settings = Small with { Task = GenerationTask.ImageToImage, Image = TestImages.Gradient(64, 48), PromptStrength = 0.6, Scheduler = "DDIM" };

        TestImages.AssertWithinOneLevel(host.Generate(settings).Images[0], device.Generate(settings).Images[0]);
    }

    [Fact]
    public void Runs_that_cannot_step_on_the_device_stay_on_the_host_with_bound_io()
    {
        // Inpainting writes mask channels per image; DDIM with clip_sample clips (not linear): both keep the host loop.
        var inpaint = new GenerationSettings
        {
            Task = GenerationTask.Inpaint,
            Prompt = "a cat",
            Width = 64,
            Height = 48,
            Steps = 3,
            Seed = 3,
            WatermarkPayload = null,
            Image = TestImages.Gradient(64, 48),
            Mask = TestImages.Solid(64, 48, 255),
        };
        using var host = StableDiffusionPipeline.Load(SyntheticModelCache.Get("tiny-inpaint"), new ModelLoadOptions { ExecutionProvider = "cpu" });
        using var device = Load("tiny-inpaint", deviceSteps: true);
        long outBefore = device.UNet.Bindings!.Memory.BytesOut;

        Assert.Equal(host.Generate(inpaint).Images[0].Bytes, device.Generate(inpaint).Images[0].Bytes);
        // The [uncond, cond] prediction of one image came back from each of at least two calls.
        Assert.True(device.UNet.Bindings.Memory.BytesOut - outBefore >= 2 * (2 * 4 * 6 * 8 * sizeof(float)), "the prediction came back each step");
        Assert.False(DeviceSteps.Supports(SchedulerFactory.Create("DDIM", SchedulerConfig.StableDiffusion21Base with { ClipSample = true })));
        Assert.True(DeviceSteps.Supports(SchedulerFactory.Create("DDIM", SchedulerConfig.StableDiffusion21Base)));
    }

    [Fact]
    public void Batched_jobs_step_on_the_device_and_a_canceled_one_leaves()
    {
        using var host = Load("tiny", deviceSteps: false);
        using var device = Load("tiny", deviceSteps: true);
        var settings = new[]
        {
            Small with { NumOutputs = 1, Scheduler = "K_EULER_ANCESTRAL" },
            Small with { NumOutputs = 2, Seed = 20, Prompt = "a red boat", GuidanceScale = 5, Scheduler = "K_EULER_ANCESTRAL" },
            Small with { NumOutputs = 1, Seed = 30, GuidanceScale = 11, Scheduler = "K_EULER_ANCESTRAL", Rng = "numpy" },
        };
        using var cancel = new CancellationTokenSource();
        var jobs = settings.Select((s, j) => new BatchJob(s, j != 1 ? null : new GenerationObserver
        {
            OnStep = p =>
            {
                if (p.Step == 3)
                {
                    cancel.Cancel();
                }
            },
        }, j == 1 ? cancel.Token : default)).ToArray();
        var calls = new List<int>();

        var outcomes = device.GenerateBatch(jobs, calls.Add);

        Assert.Equal([4, 4, 4, 2, 2, 2], calls);
        Assert.IsType<OperationCanceledException>(outcomes[1].Error);
        foreach (int j in new[] { 0, 2 })
        {
            TestImages.AssertWithinOneLevel(host.Generate(settings[j]).Images[0], outcomes[j].GetResult().Finish().Images[0]);
        }
    }

    [Fact]
    public void Batched_image_to_image_jobs_start_part_way_on_the_device()
    {
        using var host = Load("tiny", deviceSteps: false);
        using var device = Load("tiny", deviceSteps: true);
        var img2img = Small with { Task = GenerationTask.ImageToImage, Image = TestImages.Gradient(64, 48), PromptStrength = 0.5, Scheduler = "DPMSolverMultistep" };
        var settings = new[] { img2img with { NumOutputs = 1 }, img2img with { NumOutputs = 1, Seed = 9, GuidanceScale = 3, Image = TestImages.Solid(64, 48, 200) } };

        var outcomes = device.GenerateBatch(settings.Select(s => new BatchJob(s)).ToArray());

        for (int j = 0; j < settings.Length; j++)
        {
            TestImages.AssertWithinOneLevel(host.Generate(settings[j]).Images[0], outcomes[j].GetResult().Finish().Images[0]);
        }
    }

    [Fact]
    public void Runs_too_big_for_the_basis_cap_stay_on_the_host()
    {
        // 1 + 2 × calls slots of images × latent floats: the server's largest run fits, an absurd one does not.
        Assert.True(DeviceSteps.Fits(images: 8, latentSize: 4 * 128 * 128, calls: 150));
        Assert.False(DeviceSteps.Fits(images: 8, latentSize: 4 * 128 * 128, calls: 300));
        Assert.True(DeviceSteps.Fits(images: 1, latentSize: 4 * 64 * 64, calls: 51));
    }

    [Fact]
    public void Device_steps_default_off_on_the_cpu_and_need_bound_io()
    {
        using var plain = StableDiffusionPipeline.Load(SyntheticModelCache.Get("tiny"), new ModelLoadOptions { ExecutionProvider = "cpu", IoBinding = true });
        Assert.True(plain.Info.IoBinding);
        Assert.False(plain.Info.DeviceSteps);

        var error = Assert.Throws<ArgumentException>(() => StableDiffusionPipeline.Load(SyntheticModelCache.Get("tiny"),
            new ModelLoadOptions { ExecutionProvider = "cpu", DeviceSteps = true }));
        Assert.Contains("IoBinding", error.Message);
    }
}
