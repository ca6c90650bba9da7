using System.Text;

namespace StableDiffusion.Tests.Shared;

/// <summary>One hostile request: what to send, which surface answers it, and what must come back.</summary>
/// <param name="Surface">"native", "openai" or "a1111": the error shape the answer must have.</param>
/// <param name="Field">When set, the answer must be a 4xx naming this field (problem <c>errors</c> key or OpenAI <c>param</c>).</param>
/// <param name="Status">When set, the exact status expected; otherwise any status below 500.</param>
/// <param name="Chunked">Send the body with chunked transfer encoding (no Content-Length).</param>
public sealed record HostileCase(string Name, string Method, string Path, string? ContentType, byte[] Body, string Surface,
    string? Field = null, int? Status = null, bool Chunked = false)
{
    public override string ToString() => Name;
}

/// <summary>
/// Generates hostile requests systematically: for every endpoint that takes a body, every field is replaced by every
/// hostile value of its kind (strings, integers, numbers, string arrays, URLs, images), then whole-body and
/// content-type abuse per endpoint, multipart abuse per multipart endpoint, and path/query abuse per GET route. Used by
/// the in-process server tests (WebApplicationFactory) and by the raw-socket end-to-end suite and its fuzzer.
/// </summary>
public static class HostileRequests
{
    /// <summary>The server limits the cases are sized for (pass them to the server under test).</summary>
    public const long MaxImageBytes = 1024 * 1024;

    /// <summary>Limits:MaxBodyBytes for the server under test: above one MaxImageBytes image as base64 (1.4 MB), so
    /// image bombs in JSON fields reach the decoder, and the enforced body limit is this number.</summary>
    public const long MaxBodyBytes = 2 * 1024 * 1024;

    public const long BodyLimit = MaxBodyBytes;

    /// <summary>The served model the cases name (<c>owner/name</c>): the server tests' tiny model, or what
    /// <c>HOSTILE_MODEL</c> says (the end-to-end suite's demo model).</summary>
    public static string Model { get; } = Environment.GetEnvironmentVariable("HOSTILE_MODEL") is { Length: > 0 } model ? model : "test/tiny";

    private static string ModelName => Model[(Model.IndexOf('/') + 1)..];

    private enum Kind { String, Int, Number, StringArray, Url, Image, Object }

    private sealed record Field(string Path, Kind Kind, string Valid);

    /// <summary>An endpoint taking JSON: its surface, path and a valid body as fields.</summary>
    public sealed record JsonEndpoint(string Surface, string Path, IReadOnlyList<(string Path, string Json)> Fields)
    {
        public byte[] ValidBody() => Compose(Fields.Select(f => (f.Path, Encoding.UTF8.GetBytes(f.Json))).ToList());
    }

    private static readonly (string Surface, string Path, Field[] Fields)[] Endpoints =
    [
        ("native", "/v1/predictions",
        [
            new("input.prompt", Kind.String, "\"a red fox\""), new("input.negative_prompt", Kind.String, "\"blurry\""),
            new("input.width", Kind.Int, "64"), new("input.height", Kind.Int, "64"), new("input.num_inference_steps", Kind.Int, "2"),
            new("input.guidance_scale", Kind.Number, "7.5"), new("input.seed", Kind.Int, "1"), new("input.num_outputs", Kind.Int, "1"),
            new("input.scheduler", Kind.String, "\"K_EULER\""), new("input.output_format", Kind.String, "\"png\""),
            new("version", Kind.String, $"\"{Model}\""), new("webhook_events_filter", Kind.StringArray, "[\"completed\"]"),
            new("webhook", Kind.Url, "null"), new("input.image", Kind.Image, "null"), new("input.prompt_strength", Kind.Number, "0.8"),
        ]),
        ("native", $"/v1/models/{Model}/predictions",
        [
            new("input.prompt", Kind.String, "\"a red fox\""), new("input.width", Kind.Int, "64"), new("input.height", Kind.Int, "64"),
            new("input.num_inference_steps", Kind.Int, "2"),
        ]),
        ("openai", "/v1/images/generations",
        [
            new("prompt", Kind.String, "\"a lighthouse\""), new("negative_prompt", Kind.String, "\"fog\""), new("n", Kind.Int, "1"),
            new("size", Kind.String, "\"64x64\""), new("response_format", Kind.String, "\"b64_json\""), new("model", Kind.String, "\"dall-e-3\""),
            new("steps", Kind.Int, "2"), new("seed", Kind.Int, "5"), new("guidance_scale", Kind.Number, "7"), new("scheduler", Kind.String, "\"K_EULER\""),
        ]),
        ("a1111", "/sdapi/v1/txt2img",
        [
            new("prompt", Kind.String, "\"a watercolor fox\""), new("negative_prompt", Kind.String, "\"blurry\""), new("steps", Kind.Int, "2"),
            new("cfg_scale", Kind.Number, "7"), new("width", Kind.Int, "64"), new("height", Kind.Int, "64"), new("seed", Kind.Int, "1"),
            new("sampler_name", Kind.String, "\"Euler\""), new("scheduler", Kind.String, "\"Automatic\""), new("batch_size", Kind.Int, "1"),
            new("n_iter", Kind.Int, "1"), new("override_settings", Kind.Object, "{}"), new("override_settings.sd_model_checkpoint", Kind.String, $"\"{ModelName}\""),
        ]),
        ("a1111", "/sdapi/v1/img2img",
        [
            new("prompt", Kind.String, "\"a watercolor fox\""), new("steps", Kind.Int, "2"), new("width", Kind.Int, "64"), new("height", Kind.Int, "64"),
            new("denoising_strength", Kind.Number, "0.5"), new("init_images", Kind.StringArray, "[]"), new("mask", Kind.Image, "null"),
        ]),
        ("a1111", "/sdapi/v1/options", [new("sd_model_checkpoint", Kind.String, $"\"{ModelName}\"")]),
    ];

    /// <summary>The JSON endpoints with their valid bodies (the fuzzer's seeds).</summary>
    public static IReadOnlyList<JsonEndpoint> JsonEndpoints { get; } =
        Endpoints.Select(e => new JsonEndpoint(e.Surface, e.Path, e.Fields.Select(f => (f.Path, f.Valid)).ToArray())).ToArray();

    /// <summary>Every hostile value of every field kind (the fuzzer draws from it).</summary>
    public static IReadOnlyList<byte[]> ValuePool => LazyPool.Value;

    private static readonly Lazy<byte[][]> LazyPool =
        new(() => Enum.GetValues<Kind>().Where(k => k != Kind.Image).SelectMany(k => ValuesOf(k).Select(v => v.Json)).ToArray());

    /// <summary>Every case, in batches (one batch per endpoint and family), each batch small enough to check health after.</summary>
    public static IEnumerable<(string Batch, IReadOnlyList<HostileCase> Cases)> Batches()
    {
        foreach (var (surface, path, fields) in Endpoints)
        {
            var valid = fields.Select(f => (f.Path, Encoding.UTF8.GetBytes(f.Valid))).ToList();
            var perField = new List<HostileCase>();
            foreach (var field in fields)
            {
                foreach (var (name, value, fieldExpected) in ValuesOf(field.Kind))
                {
                    var body = Compose(valid.Select(v => v.Path == field.Path ? (v.Path, value) : v).ToList());
                    // The native surface names input fields bare (prompt), as its validator does.
                    var named = surface == "native" && field.Path.StartsWith("input.", StringComparison.Ordinal) ? field.Path[6..] : field.Path;
                    // Text the edge refuses (not Unicode) is a 400; a webhook URL the native surface refuses is input
                    // validation, a 422 as on Replicate.
                    var status = surface == "native" && name.StartsWith("url ", StringComparison.Ordinal) ? 422 : 400;
                    perField.Add(new HostileCase($"{path} {field.Path}={name}", "POST", path, "application/json", body, surface,
                        fieldExpected ? named : null, fieldExpected ? status : null));
                }
            }
            yield return ($"{path} fields", perField);
            yield return ($"{path} bodies", WholeBodies(surface, path, Compose(valid)).ToList());
        }
        yield return ("multipart", Multipart().ToList());
        yield return ("images", Images().ToList());
        yield return ("routes", Routes().ToList());
    }

    /// <summary>Hostile values per field kind; <c>true</c> marks values that must be a 4xx naming the field.</summary>
    private static IEnumerable<(string Name, byte[] Json, bool NamesField)> ValuesOf(Kind kind)
    {
        // Encodings every kind gets: text that is not Unicode, wrong JSON types, nesting.
        yield return ("lone-high-surrogate", "\"\\ud800\""u8.ToArray(), true);
        yield return ("lone-low-surrogate", "\"x\\udc00y\""u8.ToArray(), true);
        yield return ("reversed-surrogates", "\"\\udc00\\ud800\""u8.ToArray(), true);
        yield return ("invalid-utf8", [(byte)'"', 0xFF, 0xFE, (byte)'a', (byte)'"'], true);
        yield return ("cesu8-surrogate", [(byte)'"', 0xED, 0xA0, 0x80, (byte)'"'], true);
        yield return ("overlong-utf8", [(byte)'"', 0xC0, 0xAF, (byte)'"'], true);
        yield return ("raw-control-char", [(byte)'"', (byte)'a', 0x01, (byte)'"'], false);
        yield return ("null", "null"u8.ToArray(), false);
        yield return ("true", "true"u8.ToArray(), false);
        yield return ("empty-array", "[]"u8.ToArray(), false);
        yield return ("empty-object", "{}"u8.ToArray(), false);
        yield return ("object", "{\"a\":\"\\ud800\"}"u8.ToArray(), true);
        yield return ("array-of-surrogates", "[\"\\ud800\"]"u8.ToArray(), true);
        yield return ("nested-60", Encoding.ASCII.GetBytes(new string('[', 60) + new string(']', 60)), false);
        yield return ("nested-1000", Encoding.ASCII.GetBytes(new string('[', 1000) + new string(']', 1000)), false);
        yield return ("unclosed", "[1,"u8.ToArray(), false);
        switch (kind)
        {
            case Kind.String or Kind.Url or Kind.Image:
                yield return ("escaped-controls", "\"\\u0000\\u0001\\u001f\\u007f\""u8.ToArray(), false);
                yield return ("nul-in-middle", "\"a\\u0000b\""u8.ToArray(), false);
                yield return ("1MB", Encoding.ASCII.GetBytes("\"" + new string('a', 1_000_000) + "\""), false);
                yield return ("200k-escapes", Encoding.ASCII.GetBytes("\"" + string.Concat(Enumerable.Repeat("\\u0041", 200_000)) + "\""), false);
                yield return ("emoji-100k", Encoding.UTF8.GetBytes("\"" + string.Concat(Enumerable.Repeat("🦊", 100_000)) + "\""), false);
                yield return ("valid-pair", "\"\\ud83e\\udd8a\""u8.ToArray(), false);
                yield return ("rtl-and-bom", "\"\\u202e\\ufeff\\ufffe\\uffff\""u8.ToArray(), false);
                yield return ("number", "12"u8.ToArray(), false);
                yield return ("huge-number", "1e400"u8.ToArray(), false);
                yield return ("empty", "\"\""u8.ToArray(), false);
                yield return ("spaces", "\"   \""u8.ToArray(), false);
                break;
            case Kind.Int or Kind.Number:
                foreach (var number in new[]
                         {
                             "0", "-1", "-0", "1.5", "0.5", "1e-400", "1e308", "-1e308", "1e400", "-1e400", "9223372036854775807",
                             "9223372036854775808", "-9223372036854775809", "18446744073709551616", "2147483648", "-2147483649",
                             "123456789012345678901234567890", "1E2", "0.0000000001", "4.9e-324", "\"12\"", "\"abc\"", "\"NaN\"",
                             "\"Infinity\"", "\"-Infinity\"", "\"1e400\"", "\"0x10\"", "\" 12 \"", "\"\"", "[1]",
                         })
                {
                    yield return (number, Encoding.ASCII.GetBytes(number), false);
                }
                yield return ("huge-digits", Encoding.ASCII.GetBytes(new string('9', 100_000)), false);
                yield return ("huge-fraction", Encoding.ASCII.GetBytes("0." + new string('1', 100_000)), false);
                yield return ("huge-exponent", Encoding.ASCII.GetBytes("1e" + new string('9', 10_000)), false);
                break;
            case Kind.StringArray:
                yield return ("one-string", "\"completed\""u8.ToArray(), false);
                yield return ("numbers", "[1,2]"u8.ToArray(), false);
                yield return ("nested", "[[\"completed\"]]"u8.ToArray(), false);
                yield return ("unknown", "[\"nope\"]"u8.ToArray(), false);
                yield return ("100k-items", Encoding.ASCII.GetBytes("[" + string.Join(',', Enumerable.Repeat("\"a\"", 100_000)) + "]"), false);
                yield return ("second-item-surrogate", "[\"ok\",\"\\udfff\"]"u8.ToArray(), true);
                break;
            case Kind.Object:
                yield return ("deep-object", Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("{\"a\":", 63)) + "1" + new string('}', 63)), false);
                yield return ("10k-keys", Encoding.ASCII.GetBytes("{" + string.Join(',', Enumerable.Range(0, 10_000).Select(i => $"\"k{i}\":{i}")) + "}"), false);
                break;
        }
        if (kind == Kind.Url)
        {
            foreach (var url in InternalUrls)
            {
                yield return ($"url {url}", Encoding.UTF8.GetBytes($"\"{url}/hook\""), true);
            }
            foreach (var url in new[] { "not a url", "ftp://example.com/", "file:///etc/passwd", "javascript:alert(1)", "http://", "//example.com" })
            {
                yield return ($"url {url}", Encoding.UTF8.GetBytes($"\"{url}\""), true);
            }
        }
        if (kind == Kind.Image)
        {
            foreach (var (name, bytes) in HostileImages())
            {
                yield return ($"image {name}", Encoding.ASCII.GetBytes($"\"data:image/png;base64,{Convert.ToBase64String(bytes)}\""), false);
            }
            foreach (var uri in new[] { "data:", "data:image/png;base64,!!!", "data:text/html;base64,PGI+", "data:image/png,abc", "http://127.0.0.1/x.png", "file:///etc/passwd", "../../etc/passwd" })
            {
                yield return ($"image {uri}", Encoding.ASCII.GetBytes($"\"{uri}\""), false);
            }
        }
    }

    /// <summary>Internal webhook destinations in every spelling (see WebhookHostFormsTests for the full list).</summary>
    public static readonly string[] InternalUrls =
    [
        "http://localhost", "http://LOCALHOST.", "http://localhost.", "http://api.localhost", "http://127.0.0.1", "http://127.1",
        "http://0177.0.0.1", "http://0x7f.1", "http://2130706433", "http://0", "http://0.0.0.0", "http://10.0.0.1",
        "http://169.254.169.254", "http://0xa9fea9fe", "http://[::1]", "http://[::]", "http://[::ffff:127.0.0.1]",
        "http://[::ffff:7f00:1]", "http://[::127.0.0.1]", "http://[fe80::1%25eth0]", "http://[fd00::1]",
        "http://[2002:7f00:1::]", "http://[64:ff9b::a9fe:a9fe]", "http://user:pw@127.0.0.1:8080", "https://127.0.0.1.:443",
    ];

    // 8×8 images encoded by ImageSharp 2.1.13 (tests/bench/ImageDecodeBench tiny): tests/Shared cannot reference it.
    private static readonly byte[] TinyJpeg = Convert.FromBase64String("/9j/4AAQSkZJRgABAQEAYABgAAD/2wCEAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDIBCQkJDAsMGA0NGDIhHCEyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMv/AABEIAAgACAMBIgACEQEDEQH/xAGiAAABBQEBAQEBAQAAAAAAAAAAAQIDBAUGBwgJCgsQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+gEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoLEQACAQIEBAMEBwUEBAABAncAAQIDEQQFITEGEkFRB2FxEyIygQgUQpGhscEJIzNS8BVictEKFiQ04SXxFxgZGiYnKCkqNTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqCg4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2dri4+Tl5ufo6ery8/T19vf4+fr/2gAMAwEAAhEDEQA/AJKKKK+iPEP/2Q==");

    private static readonly byte[] TinyWebp = Convert.FromBase64String("UklGRiIAAABXRUJQVlA4TBYAAAAvB8ABAAdQxmoVuf8BgCD8f3uI6H8I");

    /// <summary>Images that must each be refused or decoded cheaply.</summary>
    public static IReadOnlyList<(string Name, byte[] Bytes)> HostileImages() => CachedImages.Value;

    // The bombs take a few seconds of deflate to build: once per process.
    private static readonly Lazy<IReadOnlyList<(string Name, byte[] Bytes)>> CachedImages = new(() => BuildHostileImages().ToList());

    private static IEnumerable<(string Name, byte[] Bytes)> BuildHostileImages()
    {
        byte[] idat = CraftedPng.GreyIdat(64, 64);
        byte[] png = CraftedPng.Create(64, 64, idat);
        yield return ("png-ok", png);
        yield return ("ztxt-512MB", CraftedPng.MetadataBomb("zTXt", 512L << 20));
        yield return ("itxt-256MB", CraftedPng.MetadataBomb("iTXt", 256L << 20));
        yield return ("iccp-256MB", CraftedPng.MetadataBomb("iCCP", 256L << 20));
        yield return ("idat-trailing-512MB", CraftedPng.Create(64, 64, CraftedPng.GreyIdat(64, 64, 512L << 20)));
        yield return ("pixels-100000^2", CraftedPng.Create(100_000, 100_000, CraftedPng.EmptyIdat));
        yield return ("pixels-1x10^9", CraftedPng.Create(1, 1_000_000_000, CraftedPng.EmptyIdat));
        yield return ("lying-header", CraftedPng.Create(4000, 4000, idat));
        yield return ("truncated", png[..(png.Length / 2)]);
        yield return ("no-iend", png[..^12]);
        yield return ("2000-text-chunks", CraftedPng.ManyTextChunks(2000, 8));
        yield return ("jpeg-ok", TinyJpeg);
        yield return ("jpeg-12-EXIF-of-64KB", CraftedContainers.JpegWithSegments(TinyJpeg, 0xE1, 12, 65_533));
        yield return ("jpeg-12-ICC-of-64KB", CraftedContainers.JpegWithSegments(TinyJpeg, 0xE2, 12, 65_533));
        yield return ("jpeg-2000-COM", CraftedContainers.JpegWithSegments(TinyJpeg, 0xFE, 2000, 8));
        yield return ("webp-ok", TinyWebp);
        yield return ("webp-EXIF-700KB", CraftedContainers.WebpWithChunks(TinyWebp, "EXIF", 1, 700 * 1024));
        yield return ("webp-ICCP-700KB", CraftedContainers.WebpWithChunks(TinyWebp, "ICCP", 1, 700 * 1024));
        yield return ("webp-2000-XMP", CraftedContainers.WebpWithChunks(TinyWebp, "XMP ", 2000, 8));
        yield return ("gif", "GIF89a\x01\0\x01\0\0\0\0;"u8.ToArray());
        yield return ("bmp-malformed", [.. "BM"u8, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0, 54, 0, 0, 0, 40, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F]);
        yield return ("tiff-no-width", [.. "II*\0"u8, 8, 0, 0, 0, 1, 0, 0x01, 0x01, 3, 0, 1, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0]);
        yield return ("tiff-big-endian", [.. "MM\0*"u8, 0, 0, 0, 8, 0, 0]);
        yield return ("svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"99999\" height=\"99999\"/>"u8.ToArray());
        yield return ("html", "<html><script>alert(1)</script></html>"u8.ToArray());
        yield return ("jpeg-soi-only", [0xFF, 0xD8, 0xFF]);
        yield return ("webp-riff-only", "RIFF\x04\0\0\0WEBP"u8.ToArray());
        yield return ("webp-animated", [.. "RIFF\x16\0\0\0WEBPVP8X\x0a\0\0\0"u8, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        yield return ("random", Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919 % 251)).ToArray());
        yield return ("empty", []);
    }

    private static IEnumerable<HostileCase> WholeBodies(string surface, string path, byte[] valid)
    {
        var bodies = new (string Name, byte[] Body, string? ContentType, int? Status, bool Chunked)[]
        {
            ("empty", [], "application/json", null, false),
            ("empty-no-type", [], null, null, false),
            ("null", "null"u8.ToArray(), "application/json", null, false),
            ("array", "[]"u8.ToArray(), "application/json", null, false),
            ("string", "\"x\""u8.ToArray(), "application/json", null, false),
            ("number", "1"u8.ToArray(), "application/json", null, false),
            ("open-brace", "{"u8.ToArray(), "application/json", null, false),
            ("close-brace", "}"u8.ToArray(), "application/json", null, false),
            ("truncated", valid[..(valid.Length / 2)], "application/json", null, false),
            ("trailing-garbage", [.. valid, .. "garbage"u8], "application/json", null, false),
            ("two-objects", [.. valid, .. valid], "application/json", null, false),
            ("bom", [0xEF, 0xBB, 0xBF, .. valid], "application/json", null, false),
            ("utf16le", Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(valid)), "application/json; charset=utf-16", null, false),
            ("utf32", Encoding.UTF32.GetBytes(Encoding.UTF8.GetString(valid)), "application/json", null, false),
            ("comments", [.. "/* c */"u8, .. valid], "application/json", null, false),
            ("nested-100000", Encoding.ASCII.GetBytes(new string('[', 100_000)), "application/json", null, false),
            ("nested-objects-65", Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("{\"a\":", 65)) + "1" + new string('}', 65)), "application/json", null, false),
            ("50k-keys", Encoding.ASCII.GetBytes("{" + string.Join(',', Enumerable.Range(0, 50_000).Select(i => $"\"k{i}\":{i}")) + "}"), "application/json", null, false),
            ("duplicate-keys", [.. "{\"prompt\":\"a\",\"prompt\":\"\\ud800\","u8, .. valid[1..]], "application/json", 400, false),
            ("surrogate-key", [.. "{\"\\ud800\":1,"u8, .. valid[1..]], "application/json", 400, false),
            // Found by the fuzzer: the JSON endpoints read JSON whatever the declared type, so the check must too.
            ("surrogate-as-form", [.. "{\"\\ud800\":1,"u8, .. valid[1..]], "application/x-www-form-urlencoded", 400, false),
            ("surrogate-as-text", [.. "{\"\\ud800\":1,"u8, .. valid[1..]], "text/plain", 400, false),
            ("surrogate-no-type", [.. "{\"\\ud800\":1,"u8, .. valid[1..]], null, 400, false),
            ("whitespace-1MB", [.. Encoding.ASCII.GetBytes(new string(' ', 1_000_000)), .. valid], "application/json", null, false),
            ("nul-bytes", new byte[1000], "application/json", null, false),
            ("over-limit-declared", new byte[BodyLimit + 1], "application/json", 413, false),
            ("over-limit-chunked", new byte[BodyLimit + 1], "application/json", 413, true),
            ("chunked-valid", valid, "application/json", null, true),
            ("text-plain", valid, "text/plain", null, false),
            ("xml", "<a/>"u8.ToArray(), "application/xml", null, false),
            ("no-content-type", valid, null, null, false),
            ("bogus-content-type", valid, "}{;;==", null, false),
            ("json-charset-bogus", valid, "application/json; charset=klingon", null, false),
            ("form-urlencoded", "prompt=%ED%A0%80&width=abc&%FF=1"u8.ToArray(), "application/x-www-form-urlencoded", null, false),
            ("multipart", MultipartBody("b", [("prompt", null, "a fox"u8.ToArray())], close: true), "multipart/form-data; boundary=b", null, false),
            ("multipart-unclosed", MultipartBody("b", [("prompt", null, "a fox"u8.ToArray())], close: false), "multipart/form-data; boundary=b", 400, false),
            ("multipart-no-boundary", MultipartBody("b", [("prompt", null, "x"u8.ToArray())], close: true), "multipart/form-data", 400, false),
        };
        foreach (var (name, body, contentType, status, chunked) in bodies)
        {
            yield return new HostileCase($"{path} body {name}", "POST", path, contentType, body, surface,
                status == 413 ? "body" : status == 400 && name.StartsWith("multipart", StringComparison.Ordinal) ? "body" : null, status, chunked);
        }
    }

    private static IEnumerable<HostileCase> Multipart()
    {
        byte[] png = CraftedPng.Create(64, 64, CraftedPng.GreyIdat(64, 64));
        var targets = new[] { ("native", "/v1/files", "content"), ("openai", "/v1/images/edits", "image"), ("native", "/v1/predictions", "image") };
        foreach (var (surface, path, part) in targets)
        {
            var parts = new List<(string, string?, byte[])> { (part, "a.png", png), ("prompt", null, "a fox"u8.ToArray()) };
            if (path == "/v1/predictions")
            {
                parts.Add(("input", null, "{\"prompt\":\"a fox\",\"width\":64,\"height\":64,\"num_inference_steps\":2}"u8.ToArray()));
            }
            var cases = new (string Name, string ContentType, byte[] Body, int? Status, bool Chunked)[]
            {
                ("valid", "multipart/form-data; boundary=XyZ", MultipartBody("XyZ", parts, close: true), null, false),
                ("no-closing-boundary", "multipart/form-data; boundary=XyZ", MultipartBody("XyZ", parts, close: false), 400, false),
                ("cut-mid-part", "multipart/form-data; boundary=XyZ", MultipartBody("XyZ", parts, close: true)[..200], 400, false),
                ("no-boundary-param", "multipart/form-data", MultipartBody("XyZ", parts, close: true), 400, false),
                ("empty-boundary", "multipart/form-data; boundary=", MultipartBody("XyZ", parts, close: true), 400, false),
                ("boundary-200", "multipart/form-data; boundary=" + new string('b', 200), MultipartBody(new string('b', 200), parts, close: true), 400, false),
                ("wrong-boundary", "multipart/form-data; boundary=other", MultipartBody("XyZ", parts, close: true), 400, false),
                ("empty-body", "multipart/form-data; boundary=XyZ", [], 400, false),
                ("huge-part-header", "multipart/form-data; boundary=XyZ",
                    Encoding.ASCII.GetBytes($"--XyZ\r\nContent-Disposition: form-data; name=\"{new string('n', 40_000)}\"\r\n\r\nx\r\n--XyZ--\r\n"), 400, false),
                ("5000-parts", "multipart/form-data; boundary=XyZ", MultipartBody("XyZ", Enumerable.Range(0, 5000).Select(i => ($"f{i}", (string?)null, "x"u8.ToArray())).ToList(), close: true), null, false),
                ("no-disposition", "multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Type: image/png\r\n\r\nabc\r\n--XyZ--\r\n"u8.ToArray(), null, false),
                ("surrogate-in-input", "multipart/form-data; boundary=XyZ", MultipartBody("XyZ", [("input", null, "{\"prompt\":\"\\ud800\"}"u8.ToArray())], close: true), null, false),
                ("over-limit-chunked", "multipart/form-data; boundary=XyZ", MultipartBody("XyZ", [(part, "big.png", new byte[BodyLimit])], close: true), 413, true),
                ("over-limit-declared", "multipart/form-data; boundary=XyZ", MultipartBody("XyZ", [(part, "big.png", new byte[BodyLimit])], close: true), 413, false),
            };
            foreach (var (name, contentType, body, status, chunked) in cases)
            {
                yield return new HostileCase($"{path} multipart {name}", "POST", path, contentType, body, surface,
                    status is 400 or 413 ? "body" : null, status, chunked);
            }
        }
        // A multipart body where JSON is expected, and JSON where multipart is expected.
        yield return new HostileCase("generations multipart", "POST", "/v1/images/generations", "multipart/form-data; boundary=XyZ",
            MultipartBody("XyZ", [("prompt", null, "x"u8.ToArray())], close: true), "openai");
        yield return new HostileCase("edits json", "POST", "/v1/images/edits", "application/json", "{\"prompt\":\"x\"}"u8.ToArray(), "openai");
        yield return new HostileCase("files json", "POST", "/v1/files", "application/json", "{}"u8.ToArray(), "native");
    }

    private static IEnumerable<HostileCase> Images()
    {
        foreach (var (name, bytes) in HostileImages())
        {
            yield return new HostileCase($"edits image {name}", "POST", "/v1/images/edits", "multipart/form-data; boundary=XyZ",
                MultipartBody("XyZ", [("image", "a.png", bytes), ("prompt", null, "a fox"u8.ToArray()), ("size", null, "64x64"u8.ToArray()), ("steps", null, "2"u8.ToArray())], close: true), "openai");
            yield return new HostileCase($"edits mask {name}", "POST", "/v1/images/edits", "multipart/form-data; boundary=XyZ",
                MultipartBody("XyZ", [("image", "a.png", CraftedPng.Create(64, 64, CraftedPng.GreyIdat(64, 64))), ("mask", "m.png", bytes), ("prompt", null, "a fox"u8.ToArray()), ("size", null, "64x64"u8.ToArray()), ("steps", null, "2"u8.ToArray())], close: true), "openai");
            yield return new HostileCase($"predictions file {name}", "POST", "/v1/predictions", "multipart/form-data; boundary=XyZ",
                MultipartBody("XyZ", [("image", "a.png", bytes), ("input", null, "{\"prompt\":\"a fox\",\"width\":64,\"height\":64,\"num_inference_steps\":2}"u8.ToArray())], close: true), "native");
            yield return new HostileCase($"img2img init_images {name}", "POST", "/sdapi/v1/img2img", "application/json",
                Encoding.ASCII.GetBytes($"{{\"prompt\":\"x\",\"steps\":2,\"width\":64,\"height\":64,\"init_images\":[\"{Convert.ToBase64String(bytes)}\"]}}"), "a1111");
            yield return new HostileCase($"files upload {name}", "POST", "/v1/files", "multipart/form-data; boundary=XyZ",
                MultipartBody("XyZ", [("content", "a.png", bytes)], close: true), "native");
        }
    }

    private static IEnumerable<HostileCase> Routes()
    {
        string[] ids = ["..%2F..%2Fetc%2Fpasswd", "%00", new string('a', 10_000), "%ED%A0%80", "%FF%FE", "'%20OR%201=1", "..", "%2e%2e"];
        foreach (var id in ids)
        {
            yield return new HostileCase($"get prediction {id[..Math.Min(20, id.Length)]}", "GET", $"/v1/predictions/{id}", null, [], "native");
            yield return new HostileCase($"get file {id[..Math.Min(20, id.Length)]}", "GET", $"/v1/files/{id}", null, [], "native");
            yield return new HostileCase($"cancel {id[..Math.Min(20, id.Length)]}", "POST", $"/v1/predictions/{id}/cancel", null, [], "native");
            yield return new HostileCase($"stream {id[..Math.Min(20, id.Length)]}", "GET", $"/v1/predictions/{id}/stream", null, [], "native");
            yield return new HostileCase($"model {id[..Math.Min(20, id.Length)]}", "GET", $"/v1/models/{id}/{id}", null, [], "native");
        }
        foreach (var query in new[] { "page_size=abc", "page_size=-1", "page_size=0", "page_size=99999999999999999999", "page_size=1e3", "cursor=%00", "cursor=" + new string('z', 4000), "cursor=%ED%A0%80", "page_size=1&page_size=2" })
        {
            yield return new HostileCase($"list {query[..Math.Min(30, query.Length)]}", "GET", $"/v1/predictions?{query}", null, [], "native");
        }
        foreach (var query in new[] { "skip_current_image=maybe", "skip_current_image=%ED%A0%80", "skip_current_image=" })
        {
            yield return new HostileCase($"progress {query}", "GET", $"/sdapi/v1/progress?{query}", null, [], "a1111");
        }
        yield return new HostileCase("options empty body", "POST", "/sdapi/v1/options", "application/json", [], "a1111", "body", 400);
        yield return new HostileCase("options no content type", "POST", "/sdapi/v1/options", null, [], "a1111", null, null);
        yield return new HostileCase("interrupt garbage body", "POST", "/sdapi/v1/interrupt", "application/json", "{"u8.ToArray(), "a1111");
        yield return new HostileCase("generations GET", "GET", "/v1/images/generations", null, [], "openai", null, 405);
        yield return new HostileCase("images unknown", "POST", "/v1/images/variations", "application/json", "{}"u8.ToArray(), "openai");
        yield return new HostileCase("sdapi unknown", "POST", "/sdapi/v1/nope", "application/json", "{}"u8.ToArray(), "a1111");
    }

    /// <summary>A multipart/form-data body; <paramref name="close"/> false leaves out the closing boundary.</summary>
    public static byte[] MultipartBody(string boundary, IReadOnlyList<(string Name, string? FileName, byte[] Content)> parts, bool close)
    {
        using var stream = new MemoryStream();
        foreach (var (name, fileName, content) in parts)
        {
            var header = fileName is null
                ? $"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                : $"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{fileName}\"\r\nContent-Type: application/octet-stream\r\n\r\n";
            stream.Write(Encoding.ASCII.GetBytes(header));
            stream.Write(content);
            stream.Write("\r\n"u8);
        }
        if (close)
        {
            stream.Write(Encoding.ASCII.GetBytes($"--{boundary}--\r\n"));
        }
        return stream.ToArray();
    }

    /// <summary>A JSON object from dotted paths and raw JSON values (raw so that invalid text can be placed exactly).</summary>
    public static byte[] Compose(IReadOnlyList<(string Path, byte[] Json)> fields)
    {
        using var stream = new MemoryStream();
        Write(stream, fields.Select(f => (f.Path.Split('.'), f.Json)).ToList());
        return stream.ToArray();
    }

    private static void Write(MemoryStream stream, List<(string[] Segments, byte[] Json)> fields)
    {
        stream.WriteByte((byte)'{');
        bool first = true;
        foreach (var group in fields.GroupBy(f => f.Segments[0]))
        {
            if (!first)
            {
                stream.WriteByte((byte)',');
            }
            first = false;
            stream.Write(Encoding.UTF8.GetBytes($"\"{group.Key}\":"));
            var leaf = group.FirstOrDefault(f => f.Segments.Length == 1);
            var children = group.Where(f => f.Segments.Length > 1).Select(f => (f.Segments[1..], f.Json)).ToList();
            if (children.Count > 0 && (leaf.Json is null || leaf.Json.AsSpan().SequenceEqual("{}"u8)))
            {
                Write(stream, children);
            }
            else
            {
                stream.Write(leaf.Json!);
            }
        }
        stream.WriteByte((byte)'}');
    }
}
