using Microsoft.AspNetCore.Http.Features;
using StableDiffusion.Server.Configuration;

namespace StableDiffusion.Server.Api.OpenAi;

/// <summary>
/// The multipart body of <c>POST /v1/images/edits</c>: its text fields, the image and the optional mask as bytes (the
/// validator decodes them, once). A failure is already the OpenAI-shaped answer.
/// </summary>
internal sealed record OpenAiEditForm(LooseFields? Fields, byte[]? Image, byte[]? Mask, IResult? Error)
{
    public static async Task<OpenAiEditForm> ReadAsync(HttpRequest request, LimitsOptions l)
    {
        if (request.ContentLength > l.MaxBodyBytes)
        {
            return Failed(OpenAiErrors.TooLarge(l.MaxBodyBytes));
        }
        if (!request.HasFormContentType)
        {
            return Failed(OpenAiErrors.Invalid("The body must be multipart/form-data with the image file in 'image'.", null, "invalid_content_type"));
        }
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = l.MaxBodyBytes }, request.HttpContext.RequestAborted);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Failed(OpenAiErrors.TooLarge(l.MaxBodyBytes));
        }
        catch (InvalidDataException e)
        {
            return Failed(OpenAiErrors.Invalid($"The multipart body is malformed or too large: {e.Message}", null, "invalid_multipart"));
        }

        // Form fields are strings; LooseFields reads numbers from strings as the JSON endpoint reads them from numbers.
        var fields = new LooseFields(form);
        // Open WebUI sends several images as 'image[]'; like OpenAI's older models, only the first is used.
        var imageFile = form.Files.GetFile("image") ?? form.Files.GetFile("image[]");
        if (imageFile is null)
        {
            return Failed(OpenAiErrors.Invalid("'image' is required: the image to edit, as a file part.", "image", "missing_required_parameter"));
        }
        var image = await ReadAllAsync(imageFile, request.HttpContext.RequestAborted);
        byte[]? mask = null;
        if (form.Files.GetFile("mask") is { } maskFile)
        {
            mask = OpenAiMask.ToRepaintMask(await ReadAllAsync(maskFile, request.HttpContext.RequestAborted), l.MaxImagePixels);
        }
        return new OpenAiEditForm(fields, image, mask, null);
    }

    /// <summary>The image's size from its header; null when unreadable (the validator then says why).</summary>
    public static (int Width, int Height)? InputSize(byte[] bytes)
    {
        // Core's identification: the accepted formats only, from our own header walk (never ImageSharp's identifiers,
        // which tried every format and threw on a malformed BMP or TIFF — a 500).
        try
        {
            var container = Core.Imaging.ImageDecoder.Identify(bytes, "image", new Core.Imaging.ImageLimits { MaxBytes = long.MaxValue, MaxPixels = long.MaxValue, MaxSide = int.MaxValue });
            return (container.Width, container.Height);
        }
        catch (Core.Imaging.ImageInputException)
        {
            return null;
        }
    }

    private static OpenAiEditForm Failed(IResult error) => new(null, null, null, error);

    private static async Task<byte[]> ReadAllAsync(IFormFile file, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream((int)Math.Min(file.Length, int.MaxValue));
        await file.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }
}
