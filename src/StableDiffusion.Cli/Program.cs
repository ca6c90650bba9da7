using System.CommandLine;
using StableDiffusion.Cli;

var root = new RootCommand("sd: Stable Diffusion on ONNX Runtime, the command line of StableDiffusion.Server");
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(ImageTaskCommand.ImageToImage());
root.Subcommands.Add(ImageTaskCommand.Inpaint());
root.Subcommands.Add(ImageTaskCommand.Upscale());
root.Subcommands.Add(ImageTaskCommand.Depth());
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(MakeModelCommand.Create());
root.Subcommands.Add(WatermarkCommand.Create());
root.Subcommands.Add(NoiseCommand.Create());
return CommandRunner.Run(root, args);
