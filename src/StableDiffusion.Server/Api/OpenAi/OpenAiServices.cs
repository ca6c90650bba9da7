using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Api.OpenAi;

/// <summary>What the OpenAI Images handlers use, bound with <c>[AsParameters]</c> from the services.</summary>
internal sealed record OpenAiServices(
    GenerationRequestValidator Validator,
    JobDispatcher Dispatcher,
    GenerationQueue Queue,
    IOptionsMonitor<LimitsOptions> Limits,
    IOptions<QueueOptions> QueueOptions,
    TimeProvider Time,
    JobStore Store,
    ModelCatalog Catalog);
