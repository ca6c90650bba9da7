using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace StableDiffusion.Core.Models;

/// <summary>An input or output as the session describes it: element type and shape (-1 for a symbolic dimension).</summary>
public sealed record TensorSpec(string Name, TensorElementType ElementType, IReadOnlyList<long> Shape)
{
    public int Rank => Shape.Count;

    public bool IsFloat16 => ElementType == TensorElementType.Float16;

    public static TensorSpec From(string name, NodeMetadata metadata)
    {
        if (!metadata.IsTensor)
        {
            throw new ModelLoadException($"'{name}' is not a tensor ({metadata.OnnxValueType}).");
        }

        return new TensorSpec(name, metadata.ElementDataType, metadata.Dimensions.Select(d => (long)d).ToArray());
    }

    /// <summary>The fixed size of dimension <paramref name="axis"/>, or null when it is symbolic.</summary>
    public long? FixedDimension(int axis) => axis < Shape.Count && Shape[axis] > 0 ? Shape[axis] : null;

    public override string ToString() => $"{Name} {ElementType} [{string.Join(", ", Shape.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]";
}
