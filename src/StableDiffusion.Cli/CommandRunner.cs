using System.CommandLine;
using StableDiffusion.Core.Models;

namespace StableDiffusion.Cli;

/// <summary>Parses and runs a command with the CLI's exit-code contract: 0 success, 1 failure, 2 bad arguments.</summary>
public static class CommandRunner
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int BadArguments = 2;

    public static int Run(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            Console.Error.WriteLine($"sd: error: {parse.Errors[0].Message}");
            return BadArguments;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (UsageException ex)
        {
            Console.Error.WriteLine($"sd: error: {ex.Message}");
            return BadArguments;
        }
        catch (ModelLoadException ex)
        {
            Console.Error.WriteLine($"sd: model error: {ex.Message}");
            return Failure;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or NotSupportedException or ArgumentException)
        {
            Console.Error.WriteLine($"sd: failed: {ex.Message}");
            return Failure;
        }
    }
}
