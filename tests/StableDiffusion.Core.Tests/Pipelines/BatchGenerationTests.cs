using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Core.Tests.Pipelines;

public sealed class BatchGenerationTests
{
    private static readonly GenerationSettings Base = new()
    {
        Prompt = "a lighthouse at dusk",
        NegativePrompt = "blurry",
        Width = 64,
        Height = 64,
        Steps = 4,
        Seed = 7,
        WatermarkPayload = null,
    };

    /// <summary>Three jobs that differ in everything a batch lets differ: prompts, guidance, seeds, noise source, image count.</summary>
    private static GenerationSettings[] Mixed(string? scheduler) =>
    [
        Base with { Scheduler = scheduler },
        Base with { Scheduler = scheduler, Prompt = "a red bicycle", NegativePrompt = "", GuidanceScale = 3.0, Seed = 1234, NumOutputs = 2 },
        Base with { Scheduler = scheduler, Prompt = "an old map", GuidanceScale = 12.0, Seed = 99, Rng = "numpy" },
    ];

    [Theory]
    [InlineData(null)]
    [InlineData("K_EULER_ANCESTRAL")]
    [InlineData("DPMSolverMultistep")]
    public void Each_image_of_a_batch_equals_its_solo_run(string? scheduler)
    {
        using var pipeline = TestImages.Load("tiny");
        var settings = Mixed(scheduler);
        var calls = new List<int>();

        var outcomes = pipeline.GenerateBatch(settings.Select(s => new BatchJob(s)).ToArray(), calls.Add);

        Assert.NotEmpty(calls);
        Assert.All(calls, images => Assert.Equal(4, images)); // 1 + 2 + 1 images in every UNet call (PNDM makes 5)
        for (int j = 0; j < settings.Length; j++)
        {
            var batched = outcomes[j].GetResult().Finish();
            var solo = pipeline.Generate(settings[j]);
            Assert.Equal(settings[j].NumOutputs, batched.Images.Count);
            for (int k = 0; k < solo.Images.Count; k++)
            {
                Assert.Equal(solo.Images[k].Seed, batched.Images[k].Seed);
                TestImages.AssertWithinOneLevel(solo.Images[k], batched.Images[k]);
            }
        }
    }

    [Fact]
    public void Unguided_jobs_batch_and_equal_their_solo_runs()
    {
        using var pipeline = TestImages.Load("tiny");
        GenerationSettings[] settings = [Base with { GuidanceScale = 1.0 }, Base with { GuidanceScale = 0.5, Prompt = "a cat", Seed = 3 }];

        var outcomes = pipeline.GenerateBatch(settings.Select(s => new BatchJob(s)).ToArray());

        for (int j = 0; j < settings.Length; j++)
        {
            TestImages.AssertWithinOneLevel(pipeline.Generate(settings[j]).Images[0], outcomes[j].GetResult().Finish().Images[0]);
        }
    }

    [Fact]
    public void A_job_canceled_mid_batch_leaves_and_the_others_finish_as_alone()
    {
        using var pipeline = TestImages.Load("tiny");
        var settings = Mixed("DPMSolverMultistep");
        using var cancel = new CancellationTokenSource();
        var progress = new List<int>[settings.Length];
        var jobs = new BatchJob[settings.Length];
        for (int j = 0; j < settings.Length; j++)
        {
            var steps = progress[j] = [];
            bool cancels = j == 1;
            jobs[j] = new BatchJob(settings[j], new GenerationObserver
            {
                OnStep = p =>
                {
                    steps.Add(p.Step);
                    if (cancels && p.Step == 2)
                    {
                        cancel.Cancel();
                    }
                },
            }, cancels ? cancel.Token : default);
        }
        var calls = new List<int>();

        var outcomes = pipeline.GenerateBatch(jobs, calls.Add);

        Assert.Equal([4, 4, 2, 2], calls); // job 1's two images leave after step 2
        Assert.IsType<OperationCanceledException>(outcomes[1].Error);
        Assert.Equal([1, 2], progress[1]);
        foreach (int j in new[] { 0, 2 })
        {
            Assert.Equal([1, 2, 3, 4], progress[j]);
            TestImages.AssertWithinOneLevel(pipeline.Generate(settings[j]).Images[0], outcomes[j].GetResult().Finish().Images[0]);
        }
    }

    [Fact]
    public void A_job_canceled_before_the_batch_starts_takes_no_place_in_it()
    {
        using var pipeline = TestImages.Load("tiny");
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var calls = new List<int>();

        var ddim = Base with { Scheduler = "DDIM" };

        var outcomes = pipeline.GenerateBatch([new BatchJob(ddim, null, cancel.Token), new BatchJob(ddim with { Seed = 8 })], calls.Add);

        Assert.IsType<OperationCanceledException>(outcomes[0].Error);
        Assert.Equal([1, 1, 1, 1], calls);
        TestImages.AssertWithinOneLevel(pipeline.Generate(ddim with { Seed = 8 }).Images[0], outcomes[1].GetResult().Finish().Images[0]);
    }

    [Theory]
    [InlineData(5, null, 64, 7.5)]
    [InlineData(4, "DDIM", 64, 7.5)]
    [InlineData(4, null, 72, 7.5)]
    [InlineData(4, null, 64, 1.0)]
    public void Jobs_that_cannot_share_a_unet_batch_are_refused(int steps, string? scheduler, int width, double guidance)
    {
        using var pipeline = TestImages.Load("tiny");
        var other = Base with { Steps = steps, Scheduler = scheduler, Width = width, GuidanceScale = guidance };

        Assert.NotEqual(BatchCompatibility.KeyOf(Base), BatchCompatibility.KeyOf(other));
        Assert.Throws<ArgumentException>(() => pipeline.GenerateBatch([new BatchJob(Base), new BatchJob(other)]));
    }

    [Fact]
    public void Prompts_seeds_and_guidance_do_not_change_the_batch_key()
    {
        var other = Base with { Prompt = "x", NegativePrompt = "y", Seed = 5, GuidanceScale = 2, NumOutputs = 3, Rng = "nv", Eta = 0.5 };

        Assert.Equal(BatchCompatibility.KeyOf(Base), BatchCompatibility.KeyOf(other));
        Assert.Null(BatchCompatibility.KeyOf(Base with { Task = GenerationTask.ImageToImage }));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("K_EULER_ANCESTRAL")]
    public void Image_to_image_jobs_at_one_strength_share_a_batch_and_each_equals_its_solo_run(string? scheduler)
    {
        using var pipeline = TestImages.Load("tiny");
        var img2img = Base with { Task = GenerationTask.ImageToImage, Image = TestImages.Gradient(64, 64), PromptStrength = 0.6, Scheduler = scheduler, Steps = 5 };
        var settings = new[]
        {
            img2img,
            img2img with { Image = TestImages.Solid(64, 64, 90), Prompt = "a red bicycle", GuidanceScale = 3.0, Seed = 1234, NumOutputs = 2 },
            img2img with { Image = TestImages.Gradient(64, 64), Prompt = "an old map", GuidanceScale = 12.0, Seed = 99, Rng = "numpy" },
        };
        var progress = settings.Select(_ => new List<int>()).ToArray();
        var calls = new List<int>();

        var outcomes = pipeline.GenerateBatch(settings.Select((s, j) => new BatchJob(s, new GenerationObserver { OnStep = p => progress[j].Add(p.Step) })).ToArray(), calls.Add);

        // Strength 0.6 of 5 steps: the last 3 calls (PNDM: 4 of its 6), every image of every job in each.
        var solo = new List<int>();
        var soloImage = pipeline.Generate(settings[0], new GenerationObserver { OnStep = p => solo.Add(p.Step) }).Images[0];
        Assert.All(calls, images => Assert.Equal(4, images));
        Assert.Equal(scheduler is null ? 4 : 3, calls.Count);
        Assert.Equal(solo, progress[0]);
        TestImages.AssertWithinOneLevel(soloImage, outcomes[0].GetResult().Finish().Images[0]);
        for (int j = 1; j < settings.Length; j++)
        {
            var expected = pipeline.Generate(settings[j]).Images;
            var actual = outcomes[j].GetResult().Finish().Images;
            for (int k = 0; k < expected.Count; k++)
            {
                TestImages.AssertWithinOneLevel(expected[k], actual[k]);
            }
        }
    }

    [Fact]
    public void Image_to_image_jobs_share_a_key_only_at_one_strength_and_output_size()
    {
        var img2img = Base with { Task = GenerationTask.ImageToImage, Image = TestImages.Gradient(64, 64), Width = null, Height = null };
        string? key = BatchCompatibility.KeyOf(img2img);

        Assert.NotNull(key);
        Assert.Equal(key, BatchCompatibility.KeyOf(img2img with { Image = TestImages.Solid(64, 64, 3), Prompt = "x", Seed = 5, GuidanceScale = 2 }));
        Assert.NotEqual(key, BatchCompatibility.KeyOf(img2img with { PromptStrength = 0.5 }));
        Assert.NotEqual(key, BatchCompatibility.KeyOf(img2img with { Image = TestImages.Gradient(72, 64) })); // its own size
        Assert.NotEqual(key, BatchCompatibility.KeyOf(Base));
        // An explicit output size: inputs of any size are stretched to it.
        var sized = img2img with { Width = 64, Height = 64 };
        Assert.Equal(BatchCompatibility.KeyOf(sized), BatchCompatibility.KeyOf(sized with { Image = TestImages.Gradient(72, 64) }));
        Assert.Null(BatchCompatibility.KeyOf(img2img with { Image = null }));
    }
}
