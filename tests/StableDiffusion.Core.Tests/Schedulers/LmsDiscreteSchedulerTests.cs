namespace StableDiffusion.Core.Tests.Schedulers;

/// <summary>LMS against diffusers' LMSDiscreteScheduler (order 4) built with from_config on SD 2.1-base's
/// scheduler_config.json (or the named variant); numbers from reference/diffusers_reference.py, whose coefficients are
/// exact integrals where diffusers' quad sees float32 integrands (agreement ~1e-7).</summary>
public sealed class LmsDiscreteSchedulerTests
{
    [Theory]
    [InlineData(10)]
    [InlineData(25)]
    [InlineData(50)]
    public void Lms_matches_diffusers_for_sd21_base(int steps) =>
        ReferenceRun.AssertMatches(ReferenceRun.Find("LMS", "SD21Base", steps));

    [Theory]
    [InlineData("VPrediction")]
    [InlineData("Linear")]
    [InlineData("Linspace")]
    [InlineData("Trailing")]
    public void Lms_matches_diffusers_for_config_variant_with_25_steps(string config) =>
        ReferenceRun.AssertMatches(ReferenceRun.Find("LMS", config, 25));

    [Fact]
    public void Lms_img2img_from_step_10_matches_diffusers()
    {
        // diffusers uses order min(step_index + 1, 4) coefficients but only as many terms as stored derivatives.
        ReferenceRun.AssertMatches(ReferenceRun.Find("LMS", "SD21Base", 25, start: 10));
    }
}
