using System.CommandLine;
using System.Text.Json;
using StableDiffusion.Core.Text;

namespace StableDiffusion.Cli;

/// <summary><c>sd tokenize --model DIR TEXT</c>: the 77 ids as a JSON array.</summary>
public static class TokenizeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model folder (its tokenizer/ is used)", Required = true };
        var text = new Argument<string>("text") { Description = "Prompt to tokenize" };
        var command = new Command("tokenize", "Print the CLIP token ids of a prompt as a JSON array");
        command.Options.Add(model);
        command.Arguments.Add(text);
        command.SetAction(parse =>
        {
            string dir = Path.Combine(parse.GetRequiredValue(model), "tokenizer");
            if (!Directory.Exists(dir))
            {
                throw new UsageException($"--model: '{dir}' does not exist");
            }

            var tokens = ClipTokenizer.FromDirectory(dir).Encode(parse.GetRequiredValue(text));
            if (tokens.DroppedTokens > 0)
            {
                Console.Error.WriteLine($"sd: prompt truncated: {tokens.DroppedTokens} tokens dropped");
            }

            Console.WriteLine(JsonSerializer.Serialize(tokens.Ids));
            return CommandRunner.Success;
        });
        return command;
    }
}
