using Microsoft.AspNetCore.Http;
using StableDiffusion.Server.Api.Replicate;

namespace StableDiffusion.Server.Tests;

public sealed class PreferWaitTests
{
    private static TimeSpan? Parse(string? header)
    {
        var context = new DefaultHttpContext();
        if (header is not null)
        {
            context.Request.Headers["Prefer"] = header;
        }
        return PredictionsApi.PreferWait(context.Request, 60);
    }

    [Theory]
    [InlineData("wait", 60)]
    [InlineData("wait=5", 5)]
    [InlineData("wait=600", 60)]
    [InlineData("respond-async, wait=10", 10)]
    public void Wait_preference_is_read_and_capped(string header, int seconds)
        => Assert.Equal(TimeSpan.FromSeconds(seconds), Parse(header));

    [Theory]
    [InlineData(null)]
    [InlineData("respond-async")]
    [InlineData("wait=abc")]
    [InlineData("wait=0")]
    public void No_wait_without_a_valid_preference(string? header) => Assert.Null(Parse(header));
}
