namespace StableDiffusion.Server.Generation;

/// <summary>The outcome of validating a <see cref="GenerationInput"/>: a request, or errors per field.</summary>
internal sealed record GenerationValidation(GenerationRequest? Request, IReadOnlyDictionary<string, string[]> Errors)
{
    public bool IsValid => Request is not null;

    /// <summary>True when the named model is not served (a 404 rather than a 400).</summary>
    public bool UnknownModel { get; init; }

    /// <summary>True when an input image is over the byte limit (a 413 rather than a 400); the errors name its field.</summary>
    public bool TooLarge { get; init; }

    public static GenerationValidation Invalid(FieldErrors errors, bool unknownModel = false)
        => new(null, errors.ToDictionary()) { UnknownModel = unknownModel, TooLarge = errors.TooLarge };
}
