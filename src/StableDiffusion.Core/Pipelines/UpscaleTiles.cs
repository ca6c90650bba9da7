namespace StableDiffusion.Core.Pipelines;

/// <summary>One tile of a tiled x4 upscale, in low-res (= latent) pixels.</summary>
public readonly record struct UpscaleTile(int X, int Y, int Width, int Height);

/// <summary>
/// Splits a low-res image into overlapping tiles no larger than a latent-pixel budget, and the linear blend weights
/// that join the upscaled tiles. Each tile is a complete diffusion run on a window of one global noise field, so
/// overlapping tiles start from the same noise and differ only where their context differs.
/// </summary>
public static class UpscaleTiles
{
    /// <summary>Tiles covering width×height. One tile when width·height fits <paramref name="maxLatentPixels"/>;
    /// otherwise square tiles of side ⌊√max⌋ rounded down to a multiple of <paramref name="multiple"/>, with at least
    /// <paramref name="overlap"/> pixels shared between neighbours.</summary>
    public static IReadOnlyList<UpscaleTile> Plan(int width, int height, int maxLatentPixels, int overlap, int multiple = 8)
    {
        if ((long)width * height <= maxLatentPixels)
        {
            return [new UpscaleTile(0, 0, width, height)];
        }

        int side = (int)Math.Sqrt(maxLatentPixels) / multiple * multiple;
        side = Math.Max(side, multiple);
        overlap = Math.Clamp(overlap, 0, side / 2);
        var xs = Starts(width, side, overlap);
        var ys = Starts(height, side, overlap);
        var tiles = new List<UpscaleTile>(xs.Count * ys.Count);
        foreach (int y in ys)
        {
            foreach (int x in xs)
            {
                tiles.Add(new UpscaleTile(x, y, Math.Min(side, width), Math.Min(side, height)));
            }
        }

        return tiles;
    }

    /// <summary>Blend weight along one axis of a tile at output coordinate <paramref name="u"/> of <paramref name="length"/>:
    /// a linear ramp over <paramref name="ramp"/> pixels on each side that has a neighbour, 1 elsewhere.</summary>
    public static float Weight(int u, int length, int ramp, bool before, bool after)
    {
        float w = 1f;
        if (ramp > 0 && before)
        {
            w = MathF.Min(w, (u + 1f) / (ramp + 1f));
        }

        if (ramp > 0 && after)
        {
            w = MathF.Min(w, (length - u) / (ramp + 1f));
        }

        return w;
    }

    private static List<int> Starts(int length, int side, int overlap)
    {
        if (length <= side)
        {
            return [0];
        }

        var starts = new List<int>();
        int step = side - overlap;
        for (int s = 0; ; s += step)
        {
            if (s + side >= length)
            {
                starts.Add(length - side);
                break;
            }

            starts.Add(s);
        }

        return starts;
    }
}
