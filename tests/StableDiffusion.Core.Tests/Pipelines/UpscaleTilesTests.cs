using StableDiffusion.Core.Pipelines;

namespace StableDiffusion.Core.Tests.Pipelines;

public sealed class UpscaleTilesTests
{
    [Fact]
    public void Input_within_the_budget_is_one_tile()
    {
        Assert.Equal([new UpscaleTile(0, 0, 128, 128)], UpscaleTiles.Plan(128, 128, 128 * 128, 16));
    }

    [Fact]
    public void Larger_input_is_covered_by_overlapping_tiles_that_end_at_the_border()
    {
        // side = ⌊√4096⌋ = 64, step 64 − 16 = 48: x starts 0, 48, 96, then the last tile flush with 200 → 136;
        // y starts 0, 48, then 120 − 64 = 56.
        var tiles = UpscaleTiles.Plan(200, 120, 64 * 64, 16);

        Assert.Equal(12, tiles.Count);
        Assert.Equal([0, 48, 96, 136], tiles.Select(t => t.X).Distinct());
        Assert.Equal([0, 48, 56], tiles.Select(t => t.Y).Distinct());
        Assert.All(tiles, t => Assert.Equal((64, 64), (t.Width, t.Height)));
    }

    [Fact]
    public void Tiles_never_exceed_the_latent_budget()
    {
        var tiles = UpscaleTiles.Plan(1000, 40, 100 * 100, 8);

        Assert.All(tiles, t => Assert.True(t.Width * t.Height <= 100 * 100 && t.Width % 8 == 0));
        Assert.Equal(40, tiles[0].Height);
    }

    [Fact]
    public void Blend_weights_ramp_only_towards_neighbours()
    {
        Assert.Equal(1f, UpscaleTiles.Weight(0, 100, 10, before: false, after: true));
        Assert.Equal(1f / 11f, UpscaleTiles.Weight(0, 100, 10, before: true, after: false), 1e-6f);
        Assert.Equal(1f / 11f, UpscaleTiles.Weight(99, 100, 10, before: false, after: true), 1e-6f);
        Assert.Equal(1f, UpscaleTiles.Weight(50, 100, 10, before: true, after: true));
    }
}
