namespace StableDiffusion.Cli;

/// <summary>A bad argument: reported on one line, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
