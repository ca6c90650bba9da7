namespace StableDiffusion.Synthetic.Tests;

/// <summary>Every component declares exactly the inputs and outputs of DESIGN §2, with the preset's types and shapes.</summary>
public class ContractTests
{
    public static TheoryData<ModelCase> Cases => ModelContracts.All();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_component_declares_the_design_contract(ModelCase model)
    {
        string folder = SyntheticFolders.Get(model);
        foreach (ComponentContract contract in ModelContracts.For(model))
        {
            using var session = OnnxRunner.Open(Path.Combine(folder, contract.Component, "model.onnx"));
            ModelContracts.AssertDeclared(contract.Inputs, session.InputMetadata);
            ModelContracts.AssertDeclared(contract.Outputs, session.OutputMetadata);
        }
    }

    [Fact]
    public void Presets_lists_the_buildable_presets_in_order()
    {
        Assert.Equal(["tiny", "tiny-v", "tiny-sd1", "tiny-inpaint", "tiny-upscale", "tiny-depth", "sd21-base", "sd15"], SyntheticModels.Presets);
    }

    [Fact]
    public void Safety_checker_cannot_be_combined_with_a_depth_preset()
    {
        Assert.Throws<ArgumentException>(() =>
            SyntheticModels.Build("tiny-depth", SyntheticFolders.NewDirectory("depth-safety"), new SyntheticModelOptions(SafetyChecker: true)));
    }

    [Fact]
    public void Unknown_preset_is_refused_with_the_known_ones_named()
    {
        var error = Assert.Throws<ArgumentException>(() => SyntheticModels.Build("nope", SyntheticFolders.NewDirectory("nope")));
        Assert.Contains("tiny", error.Message);
    }
}
