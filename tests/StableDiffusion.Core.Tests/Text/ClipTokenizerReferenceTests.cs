namespace StableDiffusion.Core.Tests.Text;

/// <summary>
/// Every case of /work/shared/reference/tokenizer-sample.json, produced by Hugging Face transformers' slow
/// CLIPTokenizer without ftfy (diffusers' default) on the real CLIP vocabulary: ids must match exactly.
/// </summary>
public sealed class ClipTokenizerReferenceTests
{
    public static TheoryData<int> Cases => ClipTestData.ReferenceCaseIndices();

    [ClipVocabularyTheory]
    [MemberData(nameof(Cases))]
    public void Sd2_ids_match_transformers_for_reference_case(int index)
    {
        ReferenceCase reference = ClipTestData.ReferenceCases()[index];

        int[] ids = ClipTestData.Sd2().Encode(reference.Prompt).Ids;

        Assert.Equal(reference.Sd2Ids, ids);
    }

    [ClipVocabularyTheory]
    [MemberData(nameof(Cases))]
    public void Sd1_ids_match_transformers_for_reference_case(int index)
    {
        ReferenceCase reference = ClipTestData.ReferenceCases()[index];

        int[] ids = ClipTestData.Sd1().Encode(reference.Prompt).Ids;

        Assert.Equal(reference.Sd1Ids, ids);
    }
}
