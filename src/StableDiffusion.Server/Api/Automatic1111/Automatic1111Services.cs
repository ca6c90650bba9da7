using Microsoft.Extensions.Options;
using StableDiffusion.Server.Configuration;
using StableDiffusion.Server.Generation;
using StableDiffusion.Server.Jobs;
using StableDiffusion.Server.Models;

namespace StableDiffusion.Server.Api.Automatic1111;

/// <summary>What the AUTOMATIC1111 handlers use, bound with <c>[AsParameters]</c> from the services.</summary>
internal sealed record Automatic1111Services(
    Automatic1111Session Session,
    ModelCatalog Catalog,
    GenerationRequestValidator Validator,
    JobDispatcher Dispatcher,
    GenerationQueue Queue,
    IOptionsMonitor<LimitsOptions> Limits,
    IOptions<QueueOptions> QueueOptions,
    TimeProvider Time,
    JobStore Store);
