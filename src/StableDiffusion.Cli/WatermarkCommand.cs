using System.CommandLine;
using System.Text;
using System.Text.Json;
using StableDiffusion.Core.Imaging;

namespace StableDiffusion.Cli;

/// <summary><c>sd watermark decode FILE</c> (and <c>encode</c>): the invisible-watermark dwtDct payload.</summary>
public static class WatermarkCommand
{
    public static Command Create()
    {
        var command = new Command("watermark", "Read or write the invisible watermark (invisible-watermark's dwtDct)");

        var file = new Argument<string>("file") { Description = "PNG/JPEG/WebP image" };
        var bits = new Option<int>("--bits") { Description = "Payload length in bits", DefaultValueFactory = _ => 32 };
        var decode = new Command("decode", "Print the decoded payload as JSON (text and hex)");
        decode.Arguments.Add(file);
        decode.Options.Add(bits);
        decode.SetAction(parse =>
        {
            int length = parse.GetValue(bits);
            if (length is < 8 or > 256 || length % 8 != 0)
            {
                throw new UsageException("--bits must be a multiple of 8 between 8 and 256");
            }

            var image = ImageTaskCommand.ReadImage(parse.GetRequiredValue(file), "file");
            byte[] payload = InvisibleWatermark.Decode(image.Pixels, image.Width, image.Height, length);
            Console.WriteLine(JsonSerializer.Serialize(new { text = Encoding.UTF8.GetString(payload), hex = Convert.ToHexString(payload) }));
            return CommandRunner.Success;
        });
        command.Subcommands.Add(decode);

        var input = new Argument<string>("file") { Description = "Image to mark" };
        var output = new Option<string>("--out") { Description = "Output PNG", Required = true };
        var payloadText = new Option<string>("--payload") { Description = "Payload text", DefaultValueFactory = _ => InvisibleWatermark.DefaultPayload };
        var encode = new Command("encode", "Embed a payload and write a PNG");
        encode.Arguments.Add(input);
        encode.Options.Add(output);
        encode.Options.Add(payloadText);
        encode.SetAction(parse =>
        {
            var image = ImageTaskCommand.ReadImage(parse.GetRequiredValue(input), "file");
            bool marked = InvisibleWatermark.FromText(parse.GetRequiredValue(payloadText)).Embed(image.Pixels, image.Width, image.Height);
            File.WriteAllBytes(parse.GetRequiredValue(output), PngWriter.Encode(image, null));
            Console.WriteLine(JsonSerializer.Serialize(new { marked }));
            return CommandRunner.Success;
        });
        command.Subcommands.Add(encode);
        return command;
    }
}
