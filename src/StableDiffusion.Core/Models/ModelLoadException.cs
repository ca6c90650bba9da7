namespace StableDiffusion.Core.Models;

/// <summary>A model folder that cannot be used: the message names the missing file or the mismatched input.</summary>
public sealed class ModelLoadException : Exception
{
    public ModelLoadException(string message) : base(message)
    {
    }

    public ModelLoadException(string message, Exception inner) : base(message, inner)
    {
    }
}
