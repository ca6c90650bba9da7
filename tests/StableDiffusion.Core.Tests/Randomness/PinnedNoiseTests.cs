using StableDiffusion.Core.Randomness;

namespace StableDiffusion.Core.Tests.Randomness;

/// <summary>Reference draws pinned in C# so the generators stay checked without Python. Values printed by torch 1.13.1
/// (Debian python3-torch, x86-64 AVX2, and ATEN_CPU_CAPABILITY=default for the portable kernel), numpy 1.24.2 and
/// reference/noise_reference.py; each is compared bit for bit.</summary>
public sealed class PinnedNoiseTests
{
    [Fact]
    public void Cpu_seed_0_small_then_vectorised_draws_equal_torch()
    {
        // g = torch.Generator("cpu").manual_seed(0); torch.randn(3, generator=g); torch.randn(2, 4, 2, generator=g)
        var generator = new TorchCpuGenerator(0);

        AssertDraw(generator, [1.5409960746765137f, -0.293428897857666f, -2.1787893772125244f]);
        AssertDraw(generator,
        [
            -0.35612836480140686f, 0.4372227191925049f, 0.4913049638271332f, -0.20410172641277313f, -0.08853142708539963f,
            0.5238832831382751f, -0.6658713221549988f, 0.8503773808479309f, -1.04375159740448f, -1.3453052043914795f,
            0.7853556275367737f, 0.9928374886512756f, -0.193183034658432f, -0.30896252393722534f, 0.5025728344917297f,
            -0.8594456315040588f,
        ]);
    }

    [Fact]
    public void Cpu_seed_42_latent_shaped_draw_with_a_redrawn_tail_equals_torch()
    {
        // torch.randn(1, 4, 2, 3, generator=torch.Generator("cpu").manual_seed(42)): 24 elements, so the last 16 are
        // drawn and transformed a second time.
        AssertDraw(new TorchCpuGenerator(42),
        [
            1.9269152879714966f, 1.4872840642929077f, 0.9007171988487244f, -2.1055209636688232f, 0.6784184575080872f,
            -1.2345448732376099f, -0.04306747764348984f, -1.6046669483184814f, 0.3558599054813385f, -0.6866229772567749f,
            -0.4933563470840454f, 0.2414877861738205f, -1.1109038591384888f, 0.09154565632343292f, -2.316922664642334f,
            -0.21680472791194916f, -0.3097267746925354f, -0.3957104980945587f, 0.8034093379974365f, -0.6215953826904297f,
            -0.5920005440711975f, -0.06307438015937805f, -0.8285542726516724f, 0.3308984339237213f,
        ]);
    }

    [Fact]
    public void Cpu_scalar_kernel_seed_0_equals_torch_without_avx2()
    {
        // ATEN_CPU_CAPABILITY=default: torch.randn(4, 4, generator=torch.Generator("cpu").manual_seed(0)), torch's
        // often-printed [[-1.1258, -1.1524, -0.2506, -0.4339], …].
        AssertDraw(new TorchCpuGenerator(0, TorchNormalKernel.Scalar),
        [
            -1.1258398294448853f, -1.152360200881958f, -0.2505785822868347f, -0.4338788390159607f, 0.8487103581428528f,
            0.6920092105865479f, -0.31601276993751526f, -2.1152195930480957f, 0.32227492332458496f, -1.2633347511291504f,
            0.34998318552970886f, 0.30813390016555786f, 0.11984150856733322f, 1.237657904624939f, 1.1167771816253662f,
            -0.2472776472568512f,
        ]);
    }

    [Fact]
    public void Cpu_seeds_equal_modulo_2_pow_32_as_in_torch()
    {
        // at::mt19937 seeds init_genrand with seed & 0xffffffff.
        var a = new float[20];
        var b = new float[20];
        new TorchCpuGenerator(5).Fill(a);
        new TorchCpuGenerator((1UL << 63) + (1UL << 32) + 5).Fill(b);

        Assert.Equal(a, b);
    }

    [Fact]
    public void Numpy_seed_0_keeps_the_second_polar_value_across_calls()
    {
        // rs = np.random.RandomState(0); rs.randn(3); rs.randn(2)
        var generator = new NumpyGenerator(0);

        AssertDraw(generator, [1.764052391052246f, 0.40015721321105957f, 0.978738009929657f]);
        AssertDraw(generator, [2.2408931255340576f, 1.8675580024719238f]);
    }

    [Fact]
    public void Nv_seed_0_equals_a1111_rng_philox()
    {
        // A1111 modules/rng_philox.py: Generator(seed=0).randn(shape=(3, 4)), as its numpy code computes it.
        AssertDraw(new PhiloxGenerator(0),
        [
            -0.9246624112129211f, -0.42534396052360535f, -2.643845796585083f, 0.14518387615680695f, -0.12086650729179382f,
            -0.5797256827354431f, -0.6228513121604919f, -0.32838714122772217f, -1.0745420455932617f, -0.3631440997123718f,
            -1.6710504293441772f, 2.265505075454712f,
        ]);
    }

    [Fact]
    public void Nv_seed_0_is_within_printing_precision_of_the_output_a1111_documents()
    {
        // The "Expected output" in rng_philox.py's docstring (CUDA's torch.randn, printed to 8 digits); the numpy
        // imitation that A1111 runs, and we reproduce bit for bit above, agrees with it to within a few float ulps.
        double[] documented =
        [
            -0.92466259, -0.42534415, -2.6438457, 0.14518388, -0.12086647, -0.57972564, -0.62285122, -0.32838709,
            -1.07454231, -0.36314407, -1.67105067, 2.26550497,
        ];
        var values = new float[12];

        new PhiloxGenerator(0).Fill(values);

        for (var i = 0; i < values.Length; i++)
        {
            Assert.True(Math.Abs(values[i] - documented[i]) < 5e-7, $"element {i}: {values[i]:R} vs documented {documented[i]}");
        }
    }

    [Fact]
    public void Nv_draws_advance_the_philox_offset()
    {
        var generator = new PhiloxGenerator(0);
        var first = new float[12];
        var second = new float[12];

        generator.Fill(first);
        generator.Fill(second);

        Assert.NotEqual(first, second);
        var again = new float[12];
        new PhiloxGenerator(0).Fill(again);
        Assert.Equal(first, again);
    }

    [Theory]
    [InlineData("CPU", RandomSource.Cpu)]
    [InlineData("GPU", RandomSource.Nv)]
    [InlineData("NV", RandomSource.Nv)]
    [InlineData("numpy", RandomSource.Numpy)]
    [InlineData("xoshiro", RandomSource.Xoshiro)]
    [InlineData("cpu-scalar", RandomSource.CpuScalar)]
    public void Source_names_include_a1111_randn_source_values(string name, string expected) =>
        Assert.Equal(expected, RandomSource.Canonicalize(name));

    [Fact]
    public void Unknown_source_is_refused_with_the_valid_names() =>
        Assert.Contains("numpy", Assert.Throws<ArgumentException>(() => RandomSource.Create("mersenne", 1)).Message);

    private static void AssertDraw(INoiseGenerator generator, float[] expected)
    {
        var values = new float[expected.Length];
        generator.Fill(values);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(BitConverter.SingleToUInt32Bits(values[i]) == BitConverter.SingleToUInt32Bits(expected[i]),
                $"element {i}: expected {expected[i]:R}, got {values[i]:R}");
        }
    }
}
