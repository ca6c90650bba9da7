#!/usr/bin/env python3
"""Replays a denoising run of our pipeline through the diffusers reference port (diffusers_reference.py), with the
noise drawn from the real torch (or numpy) generator in diffusers' StableDiffusionPipeline order:

    latents = randn_tensor(shape, generator) * scheduler.init_noise_sigma        # prepare_latents
    for i, t in enumerate(timesteps):
        noise_pred = <the guided model output our run recorded at call i>
        latents = scheduler.step(noise_pred, t, latents, generator=generator)     # ancestral / DDIM eta / SDE draw here

Reading the model outputs our run produced makes the UNet irrelevant: if our initial latents, scheduler or noise draws
differed from diffusers', the trajectories would part at the first step that differs.

stdin: a list of runs {"scheduler", "config": {...diffusers config keys...}, "steps", "eta", "seed", "images",
        "shape": [4, h, w], "batching": "per_image"|"one_generator", "rng": "cpu"|"numpy", "model_outputs": [[...], ...]}
stdout: a list of {"scaled0": [...], "latents": [[...] per call]}
Only python3, numpy and torch.
"""
import json
import sys

import numpy as np

import diffusers_reference as ref


class Noise:
    """randn_tensor(shape, generator): one draw of the whole batch from one generator, or (a list of generators, as
    A1111 and diffusers with generator=[...] do) one draw per image from generator k seeded seed + k."""

    def __init__(self, rng, seed, images, shape, batching):
        self.rng, self.images, self.shape = rng, images, list(shape)
        seeds = [seed + k for k in range(images)] if batching == 'per_image' else [seed]
        if rng == 'cpu':
            import torch
            self.generators = [torch.Generator('cpu').manual_seed(s) for s in seeds]
        else:
            self.generators = [np.random.RandomState(s) for s in seeds]

    def _draw(self, generator, shape):
        if self.rng == 'cpu':
            import torch
            return torch.randn(tuple(shape), generator=generator, dtype=torch.float32).reshape(-1).tolist()
        return generator.randn(*shape).astype(np.float32).reshape(-1).tolist()

    def __call__(self):
        if len(self.generators) == 1:
            return self._draw(self.generators[0], [self.images] + self.shape)
        out = []
        for g in self.generators:
            out.extend(self._draw(g, [1] + self.shape))
        return out


def scheduler_for(name, config, eta):
    c = dict(ref.SD21BASE)
    c.update(config)
    return ref.build(name, c, eta)


def replay(job):
    s = scheduler_for(job['scheduler'], job['config'], job.get('eta', 0.0))
    s.set_timesteps(job['steps'])
    noise = Noise(job['rng'], job['seed'], job['images'], job['shape'], job['batching'])
    init = ref.f32(s.init_noise_sigma)
    x = [ref.f32(v * init) for v in noise()]
    scaled0 = s.scale(x, 0)
    trajectory = []
    for i, mo in enumerate(job['model_outputs']):
        x = s.step([ref.f32(v) for v in mo], i, x, noise)
        trajectory.append(x)
    return {'scaled0': scaled0, 'latents': trajectory}


def main():
    json.dump([replay(job) for job in json.load(sys.stdin)], sys.stdout)


if __name__ == '__main__':
    main()
