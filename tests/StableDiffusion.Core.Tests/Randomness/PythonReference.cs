using System.Diagnostics;

namespace StableDiffusion.Core.Tests.Randomness;

/// <summary>Runs the Python reference scripts (python3 with numpy and torch: Debian's python3-numpy python3-torch) at
/// test time. The interpreter is $SD_REFERENCE_PYTHON, else the first of python3 and /usr/bin/python3 that imports both.</summary>
internal static class PythonReference
{
    private static readonly Lazy<string?> Interpreter = new(Find);

    /// <summary>The interpreter, or null when none has numpy and torch.</summary>
    public static string? Python => Interpreter.Value;

    /// <summary>True in CI (CI=true): there a missing reference must fail the tests, never skip them.</summary>
    public static bool Required => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string SkipReason => "No python3 with numpy and torch (apt-get install python3-numpy python3-torch, or set SD_REFERENCE_PYTHON); CI=true makes this a failure.";

    /// <summary>Runs <paramref name="script"/> (relative to the test project folder) with <paramref name="input"/> on stdin; returns stdout.</summary>
    public static string Run(string script, string input, IReadOnlyDictionary<string, string>? environment = null)
    {
        var python = Python ?? throw new InvalidOperationException(SkipReason);
        var path = Path.Combine(ProjectDirectory(), script);
        var start = new ProcessStartInfo(python, [path])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(path)!,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill();
            throw new TimeoutException($"{script} did not finish in 5 minutes.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} failed ({process.ExitCode}): {stderr.Result}");
        }

        return stdout.Result;
    }

    /// <summary>tests/StableDiffusion.Core.Tests, found from the test assembly's folder upwards.</summary>
    public static string ProjectDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "StableDiffusion.Core.Tests.csproj")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("StableDiffusion.Core.Tests.csproj not found above " + AppContext.BaseDirectory);
    }

    private static string? Find()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("SD_REFERENCE_PYTHON") is { Length: > 0 } configured)
        {
            candidates.Add(configured);
        }

        candidates.AddRange(["python3", "/usr/bin/python3"]);
        foreach (var candidate in candidates)
        {
            try
            {
                using var process = Process.Start(new ProcessStartInfo(candidate, ["-c", "import numpy, torch"])
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                });
                if (process is not null && process.WaitForExit(TimeSpan.FromMinutes(1)) && process.ExitCode == 0)
                {
                    return candidate;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed under that name.
            }
        }

        return null;
    }
}

/// <summary>A fact that needs <see cref="PythonReference"/>: skipped without one, except in CI where it runs and fails.</summary>
public sealed class PythonReferenceFactAttribute : FactAttribute
{
    public PythonReferenceFactAttribute()
    {
        if (PythonReference.Python is null && !PythonReference.Required)
        {
            Skip = PythonReference.SkipReason;
        }
    }
}

/// <summary>The theory form of <see cref="PythonReferenceFactAttribute"/>.</summary>
public sealed class PythonReferenceTheoryAttribute : TheoryAttribute
{
    public PythonReferenceTheoryAttribute()
    {
        if (PythonReference.Python is null && !PythonReference.Required)
        {
            Skip = PythonReference.SkipReason;
        }
    }
}
