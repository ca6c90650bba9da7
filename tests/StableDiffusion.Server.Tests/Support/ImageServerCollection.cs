namespace StableDiffusion.Server.Tests.Support;

/// <summary>The image-task test classes share one <see cref="ImageServerFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class ImageServerCollection : ICollectionFixture<ImageServerFixture>
{
    public const string Name = "image server";
}
