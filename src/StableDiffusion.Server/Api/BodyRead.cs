using System.Diagnostics.CodeAnalysis;

namespace StableDiffusion.Server.Api;

/// <summary>
/// What reading a request body gave: the value; or errors per field (a 400); or "too large" (a 413 — with errors when
/// one part, an image, is over its own limit; without when the whole body is over the body limit).
/// </summary>
internal sealed record BodyRead<T>(T? Value, IReadOnlyDictionary<string, string[]>? Errors = null, bool TooLarge = false)
    where T : class
{
    [MemberNotNullWhen(true, nameof(Value))]
    public bool Ok => Value is not null;

    /// <summary>The first error message (surfaces whose error shape has room for one).</summary>
    public string? FirstError => Errors?.Values.FirstOrDefault()?.FirstOrDefault();

    public static BodyRead<T> Read(T value) => new(value);

    public static BodyRead<T> Invalid(string field, string message) => new(null, new Dictionary<string, string[]> { [field] = [message] });

    public static BodyRead<T> Invalid(IReadOnlyDictionary<string, string[]> errors) => new(null, errors);

    public static BodyRead<T> Oversized(IReadOnlyDictionary<string, string[]>? errors = null) => new(null, errors, TooLarge: true);

    /// <summary>This failure as the result of reading something else.</summary>
    public BodyRead<TOther> Failed<TOther>() where TOther : class => new(null, Errors, TooLarge);

    /// <summary>The problem+json answer of a failed read (the native and AUTOMATIC1111 surfaces).</summary>
    public IResult Problem(long bodyLimit) => TooLarge
        ? Errors is null ? Problems.TooLarge(bodyLimit) : TooLargeProblem.For(Errors)
        : Problems.Validation(Errors!.ToDictionary());
}
