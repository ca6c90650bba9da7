using System.CommandLine;
using System.Text.Json;
using StableDiffusion.Synthetic;

namespace StableDiffusion.Cli;

/// <summary><c>sd make-model --preset NAME --out DIR</c>: writes a synthetic model folder (random weights).</summary>
public static class MakeModelCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = "Preset name (tiny, tiny-v, tiny-sd1, sd21-base, …)", Required = true };
        var output = new Option<string>("--out") { Description = "Output folder", Required = true };
        var fp16 = new Option<bool>("--fp16") { Description = "float16 weights and I/O" };
        var seed = new Option<int>("--seed") { Description = "Seed of the random weights", DefaultValueFactory = _ => 0 };
        var progressOption = ConsoleProgress.CreateOption();
        var command = new Command("make-model", "Write a synthetic model folder with random weights and the real I/O contract");
        command.Options.Add(preset);
        command.Options.Add(output);
        command.Options.Add(fp16);
        command.Options.Add(seed);
        command.Options.Add(progressOption);
        command.SetAction(parse =>
        {
            string name = parse.GetRequiredValue(preset);
            if (!SyntheticModels.Presets.Contains(name))
            {
                throw new UsageException($"--preset '{name}' is unknown; use one of {string.Join(", ", SyntheticModels.Presets)}");
            }

            string outDir = parse.GetRequiredValue(output);
            var progress = ConsoleProgress.From(parse, progressOption, "sd make-model");
            long written = 0;
            SyntheticModels.Build(name, outDir, new SyntheticModelOptions(parse.GetValue(fp16), parse.GetValue(seed)),
                new BytesWritten(total =>
                {
                    written = total;
                    progress.Bytes(total);
                }));
            progress.Bytes(written, final: true);
            long bytes = Directory.EnumerateFiles(outDir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            Console.WriteLine(JsonSerializer.Serialize(new { preset = name, path = Path.GetFullPath(outDir), bytes, fp16 = parse.GetValue(fp16), seed = parse.GetValue(seed) }));
            return CommandRunner.Success;
        });
        return command;
    }

    /// <summary>Reports on the building thread (<see cref="System.Progress{T}"/> would post to the thread pool, out of order).</summary>
    private sealed class BytesWritten(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
