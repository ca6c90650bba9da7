using StableDiffusion.Core.Models;
using StableDiffusion.Core.Pipelines;
using StableDiffusion.Core.Text;

namespace StableDiffusion.Core.Tests.Text;

public sealed class PromptEmbeddingCacheTests
{
    private static StableDiffusionPipeline Tiny(int cacheEntries) =>
        StableDiffusionPipeline.Load(SyntheticModelCache.Get("tiny"),
            new ModelLoadOptions { ExecutionProvider = "cpu", PromptCacheEntries = cacheEntries });

    private static OnnxComponent TextEncoder(StableDiffusionPipeline pipeline) => pipeline.Components.Single(c => c.Name == "text_encoder");

    [Fact]
    public void A_cached_embedding_is_bit_identical_to_a_fresh_one_and_skips_the_text_encoder()
    {
        using var cached = Tiny(cacheEntries: 8);
        using var uncached = Tiny(cacheEntries: 0);
        float[] fresh = uncached.Prompts.Encode("a lighthouse at dusk", "prompt", null);
        cached.Prompts.Encode("a lighthouse at dusk", "prompt", null);
        long runsBefore = TextEncoder(cached).RunCount;

        float[] hit = cached.Prompts.Encode("a lighthouse at dusk", "prompt", null);

        Assert.Equal(runsBefore, TextEncoder(cached).RunCount);
        Assert.Equal((1L, 1L), (cached.PromptCache.Hits, cached.PromptCache.Misses));
        Assert.Equal(BitConverterBits(fresh), BitConverterBits(hit));
    }

    [Fact]
    public void Repeated_generations_run_the_text_encoder_once_per_distinct_prompt()
    {
        using var pipeline = Tiny(cacheEntries: 8);
        var settings = new GenerationSettings { Prompt = "a red barn", Width = 64, Height = 64, Steps = 2, Seed = 1, WatermarkPayload = null };

        var first = pipeline.Generate(settings);
        var second = pipeline.Generate(settings with { Seed = 2 });
        var third = pipeline.Generate(settings with { Prompt = "a blue barn", Seed = 3 });

        // prompt + empty negative prompt: 2 runs; then 2 hits; then 1 run (new prompt) and 1 hit (negative prompt).
        Assert.Equal(3, TextEncoder(pipeline).RunCount);
        Assert.Equal((3L, 3L), (pipeline.PromptCache.Hits, pipeline.PromptCache.Misses));
        Assert.NotEqual(first.Images[0].Bytes, second.Images[0].Bytes);
        Assert.NotEqual(second.Images[0].Bytes, third.Images[0].Bytes);
    }

    [Fact]
    public void Cached_and_uncached_pipelines_make_identical_images()
    {
        using var cached = Tiny(cacheEntries: 8);
        using var uncached = Tiny(cacheEntries: 0);
        var settings = new GenerationSettings { Prompt = "a red barn", NegativePrompt = "fog", Width = 64, Height = 64, Steps = 2, Seed = 5, WatermarkPayload = null };
        cached.Generate(settings with { Seed = 4 });

        var hit = cached.Generate(settings);
        var fresh = uncached.Generate(settings);

        Assert.Equal(2, cached.PromptCache.Hits);
        Assert.Equal(fresh.Images[0].Bytes, hit.Images[0].Bytes);
    }

    [Fact]
    public void The_least_recently_used_entry_is_evicted()
    {
        var cache = new PromptEmbeddingCache(capacity: 2);
        int encodes = 0;
        float[] Encode() => [++encodes];
        cache.GetOrAdd([1], Encode);
        cache.GetOrAdd([2], Encode);
        cache.GetOrAdd([1], Encode); // 1 is now the most recent

        cache.GetOrAdd([3], Encode); // evicts 2
        float[] one = cache.GetOrAdd([1], Encode);
        float[] two = cache.GetOrAdd([2], Encode);

        Assert.Equal(1f, one[0]);
        Assert.Equal(4f, two[0]); // encoded again
        Assert.Equal(2, cache.Count);
        Assert.Equal((2L, 4L), (cache.Hits, cache.Misses));
    }

    [Fact]
    public void Keys_are_token_ids_by_value_and_entries_are_copies()
    {
        var cache = new PromptEmbeddingCache(capacity: 4);
        float[] stored = cache.GetOrAdd([7, 8, 9], () => [1f, 2f]);
        stored[0] = 99f; // the caller owns what it got

        float[] again = cache.GetOrAdd([7, 8, 9], () => throw new InvalidOperationException("not cached"));

        Assert.Equal([1f, 2f], again);
    }

    [Fact]
    public void Capacity_zero_keeps_nothing_and_counts_misses()
    {
        var cache = new PromptEmbeddingCache(capacity: 0);
        int encodes = 0;

        cache.GetOrAdd([1], () => [++encodes]);
        cache.GetOrAdd([1], () => [++encodes]);

        Assert.Equal(2, encodes);
        Assert.Equal((0L, 2L, 0), (cache.Hits, cache.Misses, cache.Count));
    }

    private static int[] BitConverterBits(float[] values) => Array.ConvertAll(values, BitConverter.SingleToInt32Bits);
}
