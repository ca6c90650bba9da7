using System.Text.RegularExpressions;

namespace StableDiffusion.Server.Tests;

/// <summary>
/// Server folders depend one way (STYLE.md: "a type used by two folders lives below both"). Reads which
/// <c>StableDiffusion.Server.X</c> namespaces each top-level folder of the source uses and fails on any cycle.
/// </summary>
public sealed partial class FolderDependencyTests
{
    [Fact]
    public void Server_folders_have_no_dependency_cycle()
    {
        var graph = ReadGraph();

        var cycles = Cycles(graph);

        Assert.True(cycles.Count == 0, "Folder cycles in src/StableDiffusion.Server:\n" + string.Join("\n", cycles));
    }

    [Fact]
    public void The_reader_sees_the_folders_and_their_dependencies()
    {
        var graph = ReadGraph();

        Assert.Contains("Generation", graph["Api"]);
        Assert.Contains("Jobs", graph["Api"]);
    }

    private static Dictionary<string, HashSet<string>> ReadGraph()
    {
        var root = ServerSourceFolder();
        var graph = new Dictionary<string, HashSet<string>>();
        foreach (var folder in Directory.GetDirectories(root))
        {
            var name = Path.GetFileName(folder);
            if (name is "bin" or "obj" or "wwwroot")
            {
                continue;
            }
            var uses = graph[name] = [];
            foreach (var file in Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories))
            {
                foreach (Match match in ServerNamespace().Matches(File.ReadAllText(file)))
                {
                    var target = match.Groups[1].Value;
                    if (target != name && target != "Tests")
                    {
                        uses.Add(target);
                    }
                }
            }
        }
        foreach (var targets in graph.Values)
        {
            targets.IntersectWith(graph.Keys);
        }
        return graph;
    }

    /// <summary>Every elementary cycle, each written once, starting from its alphabetically first folder.</summary>
    private static List<string> Cycles(Dictionary<string, HashSet<string>> graph)
    {
        var found = new List<string>();
        foreach (var start in graph.Keys.Order(StringComparer.Ordinal))
        {
            var path = new List<string> { start };
            void Walk(string node)
            {
                foreach (var next in graph[node].Order(StringComparer.Ordinal))
                {
                    if (next == start)
                    {
                        found.Add(string.Join(" -> ", path.Append(start)));
                    }
                    else if (string.CompareOrdinal(next, start) > 0 && !path.Contains(next))
                    {
                        path.Add(next);
                        Walk(next);
                        path.RemoveAt(path.Count - 1);
                    }
                }
            }
            Walk(start);
        }
        return found;
    }

    private static string ServerSourceFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "StableDiffusion.Server");
            if (File.Exists(Path.Combine(candidate, "StableDiffusion.Server.csproj")))
            {
                return candidate;
            }
        }
        throw new InvalidOperationException("src/StableDiffusion.Server not found above the test assembly.");
    }

    // `using StableDiffusion.Server.Jobs;`, a fully qualified name, or a nested namespace's parent alike.
    [GeneratedRegex(@"\bStableDiffusion\.Server\.(\w+)")]
    private static partial Regex ServerNamespace();
}
