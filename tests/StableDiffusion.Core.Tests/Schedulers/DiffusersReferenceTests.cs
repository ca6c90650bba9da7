namespace StableDiffusion.Core.Tests.Schedulers;

/// <summary>Every run pinned in DiffusersReference.cs (diffusers 0.37 schedulers built with from_config on SD 2.1-base's
/// scheduler_config.json or a one-field variant of it) against our schedulers. The per-scheduler test classes name the
/// important ones; this theory guarantees no generated case goes unchecked.</summary>
public sealed class DiffusersReferenceTests
{
    public static TheoryData<string, string, int, int, double> Cases()
    {
        var data = new TheoryData<string, string, int, int, double>();
        foreach (var c in DiffusersReference.Cases)
        {
            data.Add(c.Scheduler, c.Config, c.Steps, c.Start, c.Eta);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Scheduler_run_matches_diffusers(string scheduler, string config, int steps, int start, double eta) =>
        ReferenceRun.AssertMatches(ReferenceRun.Find(scheduler, config, steps, start, eta));
}
