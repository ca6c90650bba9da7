#!/usr/bin/env python3
"""Reference numbers for the scheduler tests: an independent pure-Python port of diffusers' scheduler maths.

It mirrors diffusers 0.37.0.dev0 (main branch, late 2025): set_timesteps / step / scale_model_input / add_noise of
PNDMScheduler (skip_prk_steps=True), DDIMScheduler, EulerDiscreteScheduler, EulerAncestralDiscreteScheduler,
DPMSolverMultistepScheduler (dpmsolver++, solver_order 2, midpoint, lower_order_final, final_sigmas_type "zero",
optionally use_karras_sigmas) and LMSDiscreteScheduler (order 4), as the pipelines call them
(set_begin_index for img2img, step_index advancing by one per call).

No numpy/torch here, so their arithmetic is emulated:
  * torch float32 tensors: every operation is rounded to float32 (f32 below), as torch does on CPU; torch.linspace
    uses its scalar formula (start + step*i for the first half, end - step*(n-1-i) for the second), torch.cumprod
    accumulates in double (at::acc_type<float> on CPU) and stores float32, `x ** 0.5` is sqrt, `1 / t` is reciprocal.
  * numpy float64 (np.linspace, np.arange, np.interp, the Karras ramp, _sigma_to_t): plain Python floats with numpy's
    formulas (linspace = i*step + start with the exact endpoint; arange = start + i*((start+step)-start);
    interp returns fp[j] exactly at a knot); `astype(np.float32)` is f32.
  * LMS: diffusers integrates the Lagrange basis polynomial with scipy.integrate.quad (21-point Gauss-Kronrod, exact
    for these degree <= 3 polynomials) on float32 tensor values; here it is integrated exactly (4-point
    Gauss-Legendre in float64). The two differ by float32 rounding of the integrand (~1e-7 relative).

Regenerate the pinned data (from this folder):
    python3 diffusers_reference.py > ../DiffusersReference.cs
"""
import math
import struct

T = 1000


def f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


def flog(x):
    return -math.inf if x == 0 else math.log(x)


def fexp(x):
    return 0.0 if x == -math.inf else math.exp(x)


# ---------------------------------------------------------------- configs

SD21BASE = dict(beta_start=0.00085, beta_end=0.012, beta_schedule='scaled_linear', prediction_type='epsilon',
                steps_offset=1, set_alpha_to_one=False, clip_sample=False, clip_sample_range=1.0,
                timestep_spacing='leading')


def variant(**kw):
    c = dict(SD21BASE)
    c.update(kw)
    return c


CONFIGS = {
    'SD21Base': SD21BASE,
    'VPrediction': variant(prediction_type='v_prediction'),
    'Linear': variant(beta_schedule='linear'),
    'Linspace': variant(timestep_spacing='linspace'),
    'Trailing': variant(timestep_spacing='trailing'),
    'ClipSample': variant(clip_sample=True, set_alpha_to_one=True),
    'Karras': variant(use_karras_sigmas=True),
    'Exponential': variant(use_exponential_sigmas=True),
}

# ---------------------------------------------------------------- noise schedule (torch float32)


def torch_linspace_f32(start, end, n):
    s, e = f32(start), f32(end)
    step = f32(f32(e - s) / (n - 1))
    half = n // 2
    return [f32(s + f32(step * i)) if i < half else f32(e - f32(step * (n - i - 1))) for i in range(n)]


def betas_for(c):
    if c['beta_schedule'] == 'linear':
        return torch_linspace_f32(c['beta_start'], c['beta_end'], T)
    return [f32(b * b) for b in torch_linspace_f32(c['beta_start'] ** 0.5, c['beta_end'] ** 0.5, T)]


def alphas_cumprod_for(c):
    acc, out = 1.0, []
    for b in betas_for(c):
        acc *= f32(1.0 - b)
        out.append(f32(acc))
    return out


def train_sigmas(acp):
    return [f32(math.sqrt(f32(f32(1 - a) / a))) for a in acp]

# ---------------------------------------------------------------- numpy float64 helpers


def np_linspace(start, stop, num):
    if num == 1:
        return [float(start)]
    step = (stop - start) / (num - 1)
    y = [i * step + start for i in range(num)]
    y[-1] = float(stop)
    return y


def np_arange(start, stop, step):
    n = max(math.ceil((stop - start) / step), 0)
    delta = (start + step) - start
    return [start + i * delta for i in range(n)]


def np_round(x):
    return float(round(x))  # half to even, like np.round


def np_interp(x, fp):
    if x <= 0:
        return fp[0]
    if x >= len(fp) - 1:
        return fp[-1]
    j = int(math.floor(x))
    if x == j:
        return fp[j]
    return (fp[j + 1] - fp[j]) * (x - j) + fp[j]

# ---------------------------------------------------------------- timesteps


def spaced_ascending_int(c, n):
    """PNDM's _timesteps (ascending)."""
    sp = c['timestep_spacing']
    if sp == 'linspace':
        return [int(np_round(v)) for v in np_linspace(0, T - 1, n)]
    if sp == 'leading':
        ratio = T // n
        return [int(np_round(i * ratio)) + c['steps_offset'] for i in range(n)]
    ratio = T / n
    return [int(np_round(v)) - 1 for v in np_arange(T, 0, -ratio)][::-1]


def ddim_timesteps(c, n):
    sp = c['timestep_spacing']
    if sp == 'linspace':
        return [int(np_round(v)) for v in np_linspace(0, T - 1, n)][::-1]
    if sp == 'leading':
        ratio = T // n
        return [int(np_round(i * ratio)) + c['steps_offset'] for i in range(n)][::-1]
    ratio = T / n
    return [int(np_round(v)) - 1 for v in np_arange(T, 0, -ratio)]


def sigma_timesteps(c, n):
    """Euler / Euler ancestral / LMS: float32 timesteps."""
    sp = c['timestep_spacing']
    if sp == 'linspace':
        return [f32(v) for v in np_linspace(0, T - 1, n)][::-1]
    if sp == 'leading':
        ratio = T // n
        return [f32(np_round(i * ratio)) + c['steps_offset'] for i in range(n)][::-1]
    ratio = T / n
    return [f32(np_round(v)) - 1 for v in np_arange(T, 0, -ratio)]


def dpm_timesteps(c, n):
    sp = c['timestep_spacing']
    last = T  # lambda_min_clipped = -inf
    if sp == 'linspace':
        return [int(np_round(v)) for v in np_linspace(0, last - 1, n + 1)][::-1][:-1]
    if sp == 'leading':
        ratio = last // (n + 1)
        return [int(np_round(i * ratio)) + c['steps_offset'] for i in range(n + 1)][::-1][:-1]
    ratio = T / n
    return [int(np_round(v)) - 1 for v in np_arange(last, 0, -ratio)]


def karras(sig_min, sig_max, n):
    rho = 7.0
    ramp = np_linspace(0, 1, n)
    lo, hi = sig_min ** (1 / rho), sig_max ** (1 / rho)
    return [(hi + r * (lo - hi)) ** rho for r in ramp]


def sigma_to_t(sigma, log_sigmas):
    log_sigma = math.log(max(sigma, 1e-10))
    count = sum(1 for ls in log_sigmas if log_sigma - ls >= 0)
    low_idx = min(max(count - 1, 0), len(log_sigmas) - 2)
    low, high = log_sigmas[low_idx], log_sigmas[low_idx + 1]
    w = (low - log_sigma) / f32(low - high)
    w = min(max(w, 0.0), 1.0)
    return (1 - w) * low_idx + w * (low_idx + 1)

# ---------------------------------------------------------------- schedulers


class Base:
    stochastic = False

    def __init__(self, c):
        self.c = c
        self.acp = alphas_cumprod_for(c)
        self.tsig = train_sigmas(self.acp)
        self.init_noise_sigma = 1.0
        self.sigmas = []

    def scale(self, x, i):
        return list(x)

    def add_noise_ddpm(self, x, n, t):
        a = self.acp[int(t)]
        sa, sb = f32(math.sqrt(a)), f32(math.sqrt(f32(1 - a)))
        return [f32(f32(sa * xi) + f32(sb * ni)) for xi, ni in zip(x, n)]


class PNDM(Base):
    def set_timesteps(self, n):
        self.n = n
        a = spaced_ascending_int(self.c, n)
        self.timesteps = (a[:-1] + a[-2:-1] + a[-1:])[::-1]
        self.final = 1.0 if self.c['set_alpha_to_one'] else self.acp[0]
        self.ets, self.counter, self.cur_sample = [], 0, None

    def prev_sample(self, x, t, tp, mo):
        acp_t = self.acp[t]
        acp_p = self.acp[tp] if tp >= 0 else self.final
        beta_t, beta_p = f32(1 - acp_t), f32(1 - acp_p)
        if self.c['prediction_type'] == 'v_prediction':
            sa, sb = f32(math.sqrt(acp_t)), f32(math.sqrt(beta_t))
            mo = [f32(f32(sa * m) + f32(sb * s)) for m, s in zip(mo, x)]
        coeff = f32(math.sqrt(f32(acp_p / acp_t)))
        denom = f32(f32(acp_t * f32(math.sqrt(beta_p))) + f32(math.sqrt(f32(f32(acp_t * beta_t) * acp_p))))
        diff = f32(acp_p - acp_t)
        return [f32(f32(coeff * s) - f32(f32(diff * m) / denom)) for s, m in zip(x, mo)]

    def step(self, mo, i, x, noise):
        t = self.timesteps[i]
        ratio = T // self.n
        tp = t - ratio
        if self.counter != 1:
            self.ets = self.ets[-3:] + [mo]
        else:
            tp = t
            t = t + ratio
        e = self.ets
        if len(e) == 1 and self.counter == 0:
            m = mo
            self.cur_sample = x
        elif len(e) == 1 and self.counter == 1:
            m = [f32(f32(a + b) / 2) for a, b in zip(mo, e[-1])]
            x = self.cur_sample
            self.cur_sample = None
        elif len(e) == 2:
            m = [f32(f32(f32(3 * a) - b) / 2) for a, b in zip(e[-1], e[-2])]
        elif len(e) == 3:
            m = [f32(f32(f32(f32(23 * a) - f32(16 * b)) + f32(5 * d)) / 12) for a, b, d in zip(e[-1], e[-2], e[-3])]
        else:
            k = f32(1 / 24)
            m = [f32(k * f32(f32(f32(f32(55 * a) - f32(59 * b)) + f32(37 * d)) - f32(9 * g)))
                 for a, b, d, g in zip(e[-1], e[-2], e[-3], e[-4])]
        out = self.prev_sample(x, t, tp, m)
        self.counter += 1
        return out

    def add_noise(self, x, n, i):
        return self.add_noise_ddpm(x, n, self.timesteps[i])


class DDIM(Base):
    def __init__(self, c, eta=0.0):
        super().__init__(c)
        self.eta = eta
        self.stochastic = eta > 0

    def set_timesteps(self, n):
        self.n = n
        self.timesteps = ddim_timesteps(self.c, n)
        self.final = 1.0 if self.c['set_alpha_to_one'] else self.acp[0]

    def step(self, mo, i, x, noise):
        t = self.timesteps[i]
        tp = t - T // self.n
        acp_t = self.acp[t]
        acp_p = self.acp[tp] if tp >= 0 else self.final
        beta_t = f32(1 - acp_t)
        sa, sb = f32(math.sqrt(acp_t)), f32(math.sqrt(beta_t))
        if self.c['prediction_type'] == 'epsilon':
            x0 = [f32(f32(s - f32(sb * m)) / sa) for s, m in zip(x, mo)]
            eps = list(mo)
        else:
            x0 = [f32(f32(sa * s) - f32(sb * m)) for s, m in zip(x, mo)]
            eps = [f32(f32(sa * m) + f32(sb * s)) for s, m in zip(x, mo)]
        if self.c['clip_sample']:
            r = f32(self.c['clip_sample_range'])
            x0 = [min(max(v, -r), r) for v in x0]
        beta_p = f32(1 - acp_p)
        variance = f32(f32(beta_p / beta_t) * f32(1 - f32(acp_t / acp_p)))
        std = f32(f32(self.eta) * f32(math.sqrt(variance)))
        dcoef = f32(math.sqrt(f32(f32(1 - acp_p) - f32(std * std))))
        sp = f32(math.sqrt(acp_p))
        out = [f32(f32(sp * a) + f32(dcoef * e)) for a, e in zip(x0, eps)]
        if self.eta > 0:
            nz = noise()
            out = [f32(o + f32(std * z)) for o, z in zip(out, nz)]
        return out

    def add_noise(self, x, n, i):
        return self.add_noise_ddpm(x, n, self.timesteps[i])


def exponential(sig_min, sig_max, n):
    return [math.exp(v) for v in np_linspace(math.log(sig_max), math.log(sig_min), n)]


def sigma_schedule(c, tsig, n):
    """Euler / LMS / Heun / DPM2 / UniPC: (float32 timesteps, float64 sigmas) before the final sigma, honouring
    use_karras_sigmas and use_exponential_sigmas (ramps between the first and last interpolated sigma)."""
    timesteps = sigma_timesteps(c, n)
    sig = [np_interp(t, tsig) for t in timesteps]
    if c.get('use_karras_sigmas') or c.get('use_exponential_sigmas'):
        ramp = karras if c.get('use_karras_sigmas') else exponential
        sig = ramp(sig[-1], sig[0], n)
        log_sigmas = [f32(math.log(v)) for v in tsig]
        timesteps = [f32(sigma_to_t(v, log_sigmas)) for v in sig]
    return timesteps, sig


class SigmaBase(Base):
    def set_timesteps(self, n):
        self.n = n
        self.timesteps, sig = sigma_schedule(self.c, self.tsig, n)
        self.sigmas = [f32(v) for v in sig] + [0.0]
        m = max(self.sigmas)
        if self.c['timestep_spacing'] in ('linspace', 'trailing'):
            self.init_noise_sigma = m
        else:
            self.init_noise_sigma = f32(math.sqrt(f32(f32(m * m) + 1)))

    def scale(self, x, i):
        s = self.sigmas[i]
        d = f32(math.sqrt(f32(f32(s * s) + 1)))
        return [f32(v / d) for v in x]

    def x0(self, mo, x, sigma):
        if self.c['prediction_type'] == 'epsilon':
            return [f32(s - f32(sigma * m)) for s, m in zip(x, mo)]
        c_out = f32(-sigma / f32(math.sqrt(f32(f32(sigma * sigma) + 1))))
        c_in = f32(f32(sigma * sigma) + 1)
        return [f32(f32(m * c_out) + f32(s / c_in)) for s, m in zip(x, mo)]

    def add_noise(self, x, n, i):
        s = self.sigmas[i]
        return [f32(a + f32(b * s)) for a, b in zip(x, n)]


class Euler(SigmaBase):
    def step(self, mo, i, x, noise):
        sigma = self.sigmas[i]
        x0 = self.x0(mo, x, sigma)
        dt = f32(self.sigmas[i + 1] - sigma)
        return [f32(s + f32(f32(f32(s - p) / sigma) * dt)) for s, p in zip(x, x0)]


class EulerAncestral(SigmaBase):
    stochastic = True

    def step(self, mo, i, x, noise):
        sigma = self.sigmas[i]
        x0 = self.x0(mo, x, sigma)
        sf, st = sigma, self.sigmas[i + 1]
        st2, sf2 = f32(st * st), f32(sf * sf)
        up = f32(math.sqrt(f32(f32(st2 * f32(sf2 - st2)) / sf2)))
        down = f32(math.sqrt(f32(st2 - f32(up * up))))
        dt = f32(down - sigma)
        out = [f32(s + f32(f32(f32(s - p) / sigma) * dt)) for s, p in zip(x, x0)]
        nz = noise()
        return [f32(o + f32(z * up)) for o, z in zip(out, nz)]


class Heun(SigmaBase):
    """HeunDiscreteScheduler: sigmas s0, s1, s1, s2, s2, ..., 0 and timesteps t0, t1, t1, ...; a call is first order
    when no derivative is stored (dt is None)."""

    def set_timesteps(self, n):
        self.n = n
        ts, sig = sigma_schedule(self.c, self.tsig, n)
        sig = [f32(v) for v in sig] + [0.0]
        self.sigmas = sig[:1] + [v for v in sig[1:-1] for _ in range(2)] + sig[-1:]
        self.timesteps = ts[:1] + [t for t in ts[1:] for _ in range(2)]
        m = max(self.sigmas)
        if self.c['timestep_spacing'] in ('linspace', 'trailing'):
            self.init_noise_sigma = m
        else:
            self.init_noise_sigma = f32(math.sqrt(f32(f32(m * m) + 1)))
        self.dt = None

    def step(self, mo, i, x, noise):
        first = self.dt is None
        sigma, nxt = (self.sigmas[i], self.sigmas[i + 1]) if first else (self.sigmas[i - 1], self.sigmas[i])
        p = self.x0(mo, x, sigma if first else nxt)
        if self.c['clip_sample']:
            r = f32(self.c['clip_sample_range'])
            p = [min(max(v, -r), r) for v in p]
        if first:
            d = [f32(f32(s - q) / sigma) for s, q in zip(x, p)]
            self.dt = f32(nxt - sigma)
            self.d, self.x = d, x
            dt = self.dt
        else:
            d = [f32(f32(a + f32(f32(s - q) / nxt)) / 2) for a, s, q in zip(self.d, x, p)]
            dt, x = self.dt, self.x
            self.dt = None
        return [f32(s + f32(v * dt)) for s, v in zip(x, d)]


def f32log(v):
    return -math.inf if v == 0 else f32(math.log(v))


def f32exp(v):
    return 0.0 if v == -math.inf else f32(math.exp(v))


def geometric_midpoint(a, b):
    """a.log().lerp(b.log(), 0.5).exp() on float32 tensors: torch's lerp at weight 0.5 is end - (end - start) * 0.5."""
    start, end = f32log(a), f32log(b)
    return f32exp(f32(end - f32(f32(end - start) * 0.5)))


def repeat_layout(xs):
    """torch.cat([x[:1], x[1:].repeat_interleave(2), x[-1:]])"""
    return xs[:1] + [v for v in xs[1:] for _ in range(2)] + xs[-1:]


class KDPM2(SigmaBase):
    """KDPM2DiscreteScheduler: Euler to the geometric midpoint, then a full step with the midpoint's slope."""

    def set_timesteps(self, n):
        self.n = n
        ts, sig = sigma_schedule(self.c, self.tsig, n)
        if self.c.get('use_karras_sigmas'):
            log_sigmas = [f32(math.log(v)) for v in self.tsig]
            ts = [np_round(sigma_to_t(v, log_sigmas)) for v in sig]
        sig = [f32(v) for v in sig] + [0.0]
        mid = [math.nan] + [geometric_midpoint(sig[j], sig[j - 1]) for j in range(1, n + 1)]
        log_sigmas = [f32(math.log(v)) for v in self.tsig]
        karras_ts = bool(self.c.get('use_karras_sigmas'))
        tmid = [sigma_to_t(v, log_sigmas) if karras_ts else f32(sigma_to_t(v, log_sigmas)) for v in mid[1:n]]
        self.timesteps = ts[:1] + [t for pair in zip(tmid, ts[1:]) for t in pair]
        self.sigmas = repeat_layout(sig)
        self.mid = repeat_layout(mid)
        m = sig[0]
        self.init_noise_sigma = m if self.c['timestep_spacing'] in ('linspace', 'trailing') else f32(math.sqrt(f32(f32(m * m) + 1)))
        self.saved = None

    def scale(self, x, i):
        s = self.sigmas[i] if self.saved is None else self.mid[i]
        d = f32(math.sqrt(f32(f32(s * s) + 1)))
        return [f32(v / d) for v in x]

    def step(self, mo, i, x, noise):
        if self.saved is None:
            sigma, mid, nxt = self.sigmas[i], self.mid[i + 1], self.sigmas[i + 1]
            p = self.x0(mo, x, sigma)
            d = [f32(f32(s - q) / sigma) for s, q in zip(x, p)]
            dt = f32(mid - sigma)
            self.saved = x
        else:
            sigma, mid, nxt = self.sigmas[i - 1], self.mid[i], self.sigmas[i]
            p = self.x0(mo, x, mid)
            d = [f32(f32(s - q) / mid) for s, q in zip(x, p)]
            dt = f32(nxt - sigma)
            x, self.saved = self.saved, None
        return [f32(s + f32(v * dt)) for s, v in zip(x, d)]


class KDPM2Ancestral(KDPM2):
    """KDPM2AncestralDiscreteScheduler: DPM2 towards sigma_down, then noise * sigma_up after each second-order call."""
    stochastic = True

    def set_timesteps(self, n):
        self.n = n
        ts, sig = sigma_schedule(self.c, self.tsig, n)
        if self.c.get('use_karras_sigmas'):
            log_sigmas = [f32(math.log(v)) for v in self.tsig]
            ts = [np_round(sigma_to_t(v, log_sigmas)) for v in sig]
        sig = [f32(v) for v in sig] + [0.0]
        nxt = sig[1:] + [0.0]
        up, down = [], []
        for s, t in zip(sig, nxt):
            t2, s2 = f32(t * t), f32(s * s)
            u = math.nan if s2 == 0 else f32(math.sqrt(f32(f32(t2 * f32(s2 - t2)) / s2)))
            up.append(u)
            down.append(math.nan if u != u else f32(math.sqrt(f32(t2 - f32(u * u)))))
        down[-1] = 0.0
        mid = [geometric_midpoint(s, d) for s, d in zip(sig, down)]
        mid[-2:] = [0.0, 0.0]
        log_sigmas = [f32(math.log(v)) for v in self.tsig]
        karras_ts = bool(self.c.get('use_karras_sigmas'))
        tmid = [sigma_to_t(v, log_sigmas) if karras_ts else f32(sigma_to_t(v, log_sigmas)) for v in mid[:n - 1]]
        self.timesteps = ts[:1] + [t for pair in zip(tmid, ts[1:]) for t in pair]
        self.sigmas, self.mid = repeat_layout(sig), repeat_layout(mid)
        self.up, self.down = repeat_layout(up), repeat_layout(down)
        m = sig[0]
        self.init_noise_sigma = m if self.c['timestep_spacing'] in ('linspace', 'trailing') else f32(math.sqrt(f32(f32(m * m) + 1)))
        self.saved = None

    def scale(self, x, i):
        s = self.sigmas[i] if self.saved is None else self.mid[i - 1]
        d = f32(math.sqrt(f32(f32(s * s) + 1)))
        return [f32(v / d) for v in x]

    def step(self, mo, i, x, noise):
        if self.saved is None:
            sigma, mid = self.sigmas[i], self.mid[i]
            p = self.x0(mo, x, sigma)
            d = [f32(f32(s - q) / sigma) for s, q in zip(x, p)]
            dt = f32(mid - sigma)
            self.saved = x
            return [f32(s + f32(v * dt)) for s, v in zip(x, d)]
        sigma, mid, up, down = self.sigmas[i - 1], self.mid[i - 1], self.up[i - 1], self.down[i - 1]
        p = self.x0(mo, x, mid)
        d = [f32(f32(s - q) / mid) for s, q in zip(x, p)]
        dt = f32(down - sigma)
        x, self.saved = self.saved, None
        out = [f32(s + f32(v * dt)) for s, v in zip(x, d)]
        nz = noise()
        return [f32(o + f32(z * up)) for o, z in zip(out, nz)]


GL_X = [-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526]
GL_W = [0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538]


class LMS(SigmaBase):
    def set_timesteps(self, n):
        super().set_timesteps(n)
        self.derivs = []

    def coeff(self, order, t, cur):
        s = self.sigmas
        a, b = s[t], s[t + 1]

        def basis(tau):
            p = 1.0
            for k in range(order):
                if k != cur:
                    p *= (tau - s[t - k]) / (s[t - cur] - s[t - k])
            return p
        half, mid = (b - a) / 2, (a + b) / 2
        return half * sum(w * basis(mid + half * xg) for xg, w in zip(GL_X, GL_W))

    def step(self, mo, i, x, noise):
        sigma = self.sigmas[i]
        x0 = self.x0(mo, x, sigma)
        self.derivs.append([f32(f32(s - p) / sigma) for s, p in zip(x, x0)])
        if len(self.derivs) > 4:
            self.derivs.pop(0)
        order = min(i + 1, 4)
        coeffs = [self.coeff(order, i, k) for k in range(order)]
        acc = [0.0] * len(x)
        # zip() stops at the shorter list: after an img2img start only the stored derivatives count.
        for cf, d in zip(coeffs, reversed(self.derivs)):
            c = f32(cf)
            acc = [f32(a + f32(c * v)) for a, v in zip(acc, d)]
        return [f32(s + a) for s, a in zip(x, acc)]


def alpha_sigma(s):
    a = f32(1 / f32(math.sqrt(f32(f32(s * s) + 1))))
    return a, f32(s * a)


class DPM(Base):
    """DPMSolverMultistepScheduler, dpmsolver++ or (sde=True) sde-dpmsolver++, solver_order 2, midpoint."""

    def __init__(self, c, karras_sigmas=False, sde=False):
        super().__init__(c)
        self.karras = karras_sigmas
        self.sde = sde
        self.stochastic = sde

    def set_timesteps(self, n):
        if self.karras:
            flipped = self.tsig[::-1]
            sig = karras(flipped[-1], flipped[0], n)
            log_sigmas = [f32(math.log(v)) for v in self.tsig]
            self.timesteps = [np_round(sigma_to_t(v, log_sigmas)) for v in sig]
        elif self.c.get('use_exponential_sigmas'):
            flipped = self.tsig[::-1]
            sig = exponential(flipped[-1], flipped[0], n)
            log_sigmas = [f32(math.log(v)) for v in self.tsig]
            # Not rounded (unlike Karras): the int64 cast truncates.
            self.timesteps = [float(math.trunc(sigma_to_t(v, log_sigmas) + 1e-6)) for v in sig]
        else:
            self.timesteps = dpm_timesteps(self.c, n)
            sig = [np_interp(t, self.tsig) for t in self.timesteps]
        self.sigmas = [f32(v) for v in sig] + [0.0]
        self.n = len(self.timesteps)
        self.outputs = [None, None]
        self.lower = 0

    def step(self, mo, i, x, noise):
        n = self.n
        lof = i == n - 1  # final_sigmas_type "zero" always ends with a first-order step
        los = i == n - 2 and n < 15
        s0 = self.sigmas[i]
        a0, sg0 = alpha_sigma(s0)
        if self.c['prediction_type'] == 'epsilon':
            x0 = [f32(f32(s - f32(sg0 * m)) / a0) for s, m in zip(x, mo)]
        else:
            x0 = [f32(f32(a0 * s) - f32(sg0 * m)) for s, m in zip(x, mo)]
        self.outputs = [self.outputs[1], x0]
        at, st = alpha_sigma(self.sigmas[i + 1])
        lt = f32(flog(at) - flog(st))
        l0 = f32(flog(a0) - flog(sg0))
        h = f32(lt - l0)
        if self.sde:
            out = self.sde_step(x, i, at, st, sg0, l0, h, lof, noise())
        else:
            out = self.ode_step(x, i, at, st, sg0, l0, h, lof)
        if self.lower < 2:
            self.lower += 1
        return out

    def sde_step(self, x, i, at, st, sg0, l0, h, lof, nz):
        e1 = f32(fexp(-h))
        e2 = f32(fexp(f32(-2.0 * h)))
        a = f32(f32(st / sg0) * e1)
        b = f32(at * f32(1 - e2))
        cn = f32(st * f32(math.sqrt(f32(1.0 - e2))))
        m0 = self.outputs[1]
        if self.lower < 1 or lof:
            return [f32(f32(f32(a * s) + f32(b * p)) + f32(cn * z)) for s, p, z in zip(x, m0, nz)]
        a1, sg1 = alpha_sigma(self.sigmas[i - 1])
        l1 = f32(flog(a1) - flog(sg1))
        h0 = f32(l0 - l1)
        inv_r0 = f32(1 / f32(h0 / h))
        half_b = f32(0.5 * b)
        out = []
        for s, p, q, z in zip(x, m0, self.outputs[0], nz):
            d1 = f32(inv_r0 * f32(p - q))
            out.append(f32(f32(f32(f32(a * s) + f32(b * p)) + f32(half_b * d1)) + f32(cn * z)))
        return out

    def ode_step(self, x, i, at, st, sg0, l0, h, lof):
        ratio = f32(st / sg0)
        c = f32(at * f32(f32(fexp(-h)) - 1.0))
        if self.lower < 1 or lof:
            out = [f32(f32(ratio * s) - f32(c * m)) for s, m in zip(x, self.outputs[1])]
        else:
            a1, sg1 = alpha_sigma(self.sigmas[i - 1])
            l1 = f32(flog(a1) - flog(sg1))
            h0 = f32(l0 - l1)
            inv_r0 = f32(1 / f32(h0 / h))
            half_c = f32(0.5 * c)
            m0, m1 = self.outputs[1], self.outputs[0]
            out = []
            for s, p, q in zip(x, m0, m1):
                d1 = f32(inv_r0 * f32(p - q))
                out.append(f32(f32(f32(ratio * s) - f32(c * p)) - f32(half_c * d1)))
        return out

    def add_noise(self, x, n, i):
        a, s = alpha_sigma(self.sigmas[i])
        return [f32(f32(a * p) + f32(s * q)) for p, q in zip(x, n)]

def multistep_schedule(c, tsig, n):
    """DPMSolverMultistep / UniPC / DEIS timesteps and float64 sigmas (Karras rounded, exponential truncated)."""
    log_sigmas = [f32(math.log(v)) for v in tsig]
    if c.get('use_karras_sigmas'):
        sig = karras(tsig[0], tsig[-1], n)
        return [np_round(sigma_to_t(v, log_sigmas)) for v in sig], sig
    if c.get('use_exponential_sigmas'):
        sig = exponential(tsig[0], tsig[-1], n)
        return [float(math.trunc(sigma_to_t(v, log_sigmas) + 1e-6)) for v in sig], sig
    ts = dpm_timesteps(c, n)
    return ts, [np_interp(t, tsig) for t in ts]


def expm1f(x):
    return -1.0 if x == -math.inf else f32(math.expm1(x))


def solve2(rk, b1, b2):
    """torch.linalg.solve([[1, 1], [rk, 1]], [b1, b2]) as LAPACK getrf/getrs: partial pivoting, reciprocal multiplier."""
    if abs(rk) > 1:
        l = f32(1 * f32(1 / rk))
        u11 = f32(1 - l)
        x1 = f32(f32(b1 - f32(l * b2)) / u11)
        return f32(f32(b2 - x1) / rk), x1
    l = rk
    u11 = f32(1 - l)
    x1 = f32(f32(b2 - f32(l * b1)) / u11)
    return f32(b1 - x1), x1


def lam(sig):
    a, s = alpha_sigma(sig)
    return f32(flog(a) - flog(s))


class UniPC(Base):
    """UniPCMultistepScheduler: bh2, predict_x0, solver_order 2, lower_order_final, corrector on."""

    def set_timesteps(self, n):
        self.timesteps, sig = multistep_schedule(self.c, self.tsig, n)
        self.sigmas = [f32(v) for v in sig] + [0.0]
        self.outputs = [None, None]
        self.last = None
        self.order = 0
        self.lower = 0

    def x0(self, mo, x, i):
        a, s = alpha_sigma(self.sigmas[i])
        if self.c['prediction_type'] == 'epsilon':
            return [f32(f32(v - f32(s * m)) / a) for v, m in zip(x, mo)]
        return [f32(f32(a * v) - f32(s * m)) for v, m in zip(x, mo)]

    def coefficients(self, t_index, s_index):
        at, st = alpha_sigma(self.sigmas[t_index])
        a0, s0 = alpha_sigma(self.sigmas[s_index])
        l0 = lam(self.sigmas[s_index])
        h = f32(f32(flog(at) - flog(st)) - l0)
        hh = f32(-h)
        hphi1 = expm1f(hh)
        return at, st, s0, l0, h, hh, hphi1, f32(st / s0), f32(at * hphi1), f32(at * hphi1)

    def step(self, mo, i, x, noise):
        conv = self.x0(mo, x, i)
        if i > 0 and self.last is not None:
            x = self.correct(conv, i, self.order)
        self.outputs = [self.outputs[1], conv]
        n = len(self.timesteps)
        order = min(2, n - i)
        self.order = min(order, self.lower + 1)
        self.last = x
        out = self.predict(x, i, self.order)
        if self.lower < 2:
            self.lower += 1
        return out

    def predict(self, x, i, order):
        at, st, s0, l0, h, hh, hphi1, ratio, data, corr = self.coefficients(i + 1, i)
        m0 = self.outputs[1]
        pred = [f32(f32(ratio * v) - f32(data * m)) for v, m in zip(x, m0)]
        if order == 1:
            return pred
        rk = f32(f32(lam(self.sigmas[i - 1]) - l0) / h)
        m1 = self.outputs[0]
        return [f32(p - f32(corr * f32(0.5 * f32(f32(q - m) / rk)))) for p, q, m in zip(pred, m1, m0)]

    def correct(self, conv, i, order):
        at, st, s0, l0, h, hh, hphi1, ratio, data, corr = self.coefficients(i, i - 1)
        m0 = self.outputs[1]
        pred = [f32(f32(ratio * v) - f32(data * m)) for v, m in zip(self.last, m0)]
        if order == 1:
            return [f32(p - f32(corr * f32(0.5 * f32(c - m)))) for p, c, m in zip(pred, conv, m0)]
        rk = f32(f32(lam(self.sigmas[i - 2]) - l0) / h)
        bh = hphi1
        hk = f32(f32(hphi1 / hh) - 1)
        b1 = f32(hk / bh)
        hk = f32(f32(hk / hh) - 0.5)
        b2 = f32(f32(hk * 2) / bh)
        r0, r1 = solve2(rk, b1, b2)
        m1 = self.outputs[0]
        return [f32(p - f32(corr * f32(f32(r0 * f32(f32(q - m) / rk)) + f32(r1 * f32(c - m)))))
                for p, q, m, c in zip(pred, m1, m0, conv)]

    def add_noise(self, x, n, i):
        a, s = alpha_sigma(self.sigmas[i])
        return [f32(f32(a * p) + f32(s * q)) for p, q in zip(x, n)]


class LCM(Base):
    """LCMScheduler: consistency estimate c_skip * x + c_out * x0, re-noised to the next timestep (not after the last)."""
    stochastic = True

    def set_timesteps(self, n, original=50):
        k = T // original
        origin = [i * k - 1 for i in range(1, original + 1)][::-1]
        self.timesteps = [float(origin[int(math.floor(i * (original / n)))]) for i in range(n)]

    def step(self, mo, i, x, noise):
        t = int(self.timesteps[i])
        last = i == len(self.timesteps) - 1
        tp = t if last else int(self.timesteps[i + 1])
        a, ap = self.acp[t], self.acp[tp]
        sa, sb = f32(math.sqrt(a)), f32(math.sqrt(f32(1 - a)))
        scaled = f32(t * 10.0)
        c_skip = f32(0.25 / f32(f32(scaled * scaled) + 0.25))
        c_out = f32(scaled / f32(math.sqrt(f32(f32(scaled * scaled) + 0.25))))
        if self.c['prediction_type'] == 'epsilon':
            x0 = [f32(f32(s - f32(sb * m)) / sa) for s, m in zip(x, mo)]
        else:
            x0 = [f32(f32(sa * s) - f32(sb * m)) for s, m in zip(x, mo)]
        if self.c['clip_sample']:
            r = f32(self.c['clip_sample_range'])
            x0 = [min(max(v, -r), r) for v in x0]
        den = [f32(f32(c_out * p) + f32(c_skip * s)) for p, s in zip(x0, x)]
        if last:
            return den
        nz = noise()
        sap, sbp = f32(math.sqrt(ap)), f32(math.sqrt(f32(1 - ap)))
        return [f32(f32(sap * d) + f32(sbp * z)) for d, z in zip(den, nz)]

    def add_noise(self, x, n, i):
        return self.add_noise_ddpm(x, n, self.timesteps[i])


class DEIS(Base):
    """DEISMultistepScheduler: log-rho DEIS, solver_order 2; ends at sigma(t=0), or the last ramp sigma repeated."""

    def set_timesteps(self, n):
        self.timesteps, sig = multistep_schedule(self.c, self.tsig, n)
        sig = [f32(v) for v in sig]
        ramp = self.c.get('use_karras_sigmas') or self.c.get('use_exponential_sigmas')
        a0 = self.acp[0]
        self.sigmas = sig + [sig[-1] if ramp else f32(math.sqrt(f32(f32(1 - a0) / a0)))]
        self.eps = [None, None]
        self.lower = 0

    def step(self, mo, i, x, noise):
        n = len(self.timesteps)
        lof = i == n - 1 and n < 15
        a0, s0 = alpha_sigma(self.sigmas[i])
        if self.c['prediction_type'] == 'epsilon':
            x0 = [f32(f32(v - f32(s0 * m)) / a0) for v, m in zip(x, mo)]
        else:
            x0 = [f32(f32(a0 * v) - f32(s0 * m)) for v, m in zip(x, mo)]
        e = [f32(f32(v - f32(a0 * p)) / s0) for v, p in zip(x, x0)]
        self.eps = [self.eps[1], e]
        at, st = alpha_sigma(self.sigmas[i + 1])
        if self.lower < 1 or lof:
            h = f32(f32(flog(at) - flog(st)) - f32(flog(a0) - flog(s0)))
            ratio = f32(at / a0)
            c = f32(st * f32(f32(math.exp(h)) - 1.0))
            out = [f32(f32(ratio * v) - f32(c * m)) for v, m in zip(x, e)]
        else:
            a1, s1 = alpha_sigma(self.sigmas[i - 1])
            rt, r0, r1 = f32(st / at), f32(s0 / a0), f32(s1 / a1)

            def ind(t, b, c):
                return f32(f32(t * f32(f32(f32(-f32(math.log(c))) + f32(math.log(t))) - 1)) / f32(f32(math.log(b)) - f32(math.log(c))))
            c1 = f32(ind(rt, r0, r1) - ind(r0, r0, r1))
            c2 = f32(ind(rt, r1, r0) - ind(r0, r1, r0))
            out = [f32(at * f32(f32(f32(v / a0) + f32(c1 * m)) + f32(c2 * q))) for v, m, q in zip(x, e, self.eps[0])]
        if self.lower < 2:
            self.lower += 1
        return out

    def add_noise(self, x, n, i):
        a, s = alpha_sigma(self.sigmas[i])
        return [f32(f32(a * p) + f32(s * q)) for p, q in zip(x, n)]


class DPMSingle(Base):
    """DPMSolverSinglestepScheduler: dpmsolver++ midpoint, solver_order 2, always linspace timesteps."""

    def set_timesteps(self, n):
        c = dict(self.c)
        c['timestep_spacing'] = 'linspace'
        self.timesteps, sig = multistep_schedule(c, self.tsig, n)
        self.sigmas = [f32(v) for v in sig] + [0.0]
        orders = [1, 2] * (n // 2 - 1) + [1, 1] if n % 2 == 0 else [1, 2] * (n // 2) + [1]
        orders[-1] = 1
        self.orders = orders
        self.outputs = [None, None]
        self.saved = None

    def step(self, mo, i, x, noise):
        a0, s0 = alpha_sigma(self.sigmas[i])
        if self.c['prediction_type'] == 'epsilon':
            x0 = [f32(f32(v - f32(s0 * m)) / a0) for v, m in zip(x, mo)]
        else:
            x0 = [f32(f32(a0 * v) - f32(s0 * m)) for v, m in zip(x, mo)]
        self.outputs = [self.outputs[1], x0]
        order = self.orders[i]
        while self.outputs[-order] is None:
            order -= 1
        at, st = alpha_sigma(self.sigmas[i + 1])
        lt = f32(flog(at) - flog(st))
        if order == 1:
            self.saved = x
            h = f32(lt - f32(flog(a0) - flog(s0)))
            ratio = f32(st / s0)
            c = f32(at * f32(f32(fexp(-h)) - 1.0))
            return [f32(f32(ratio * v) - f32(c * m)) for v, m in zip(x, x0)]
        a1, s1 = alpha_sigma(self.sigmas[i - 1])
        l0 = f32(flog(a0) - flog(s0))
        l1 = f32(flog(a1) - flog(s1))
        h, h0 = f32(lt - l1), f32(l0 - l1)
        inv_r0 = f32(1 / f32(h0 / h))
        ratio = f32(st / s1)
        c = f32(at * f32(f32(fexp(-h)) - 1.0))
        half_c = f32(0.5 * c)
        out = []
        for v, p, q in zip(self.saved, x0, self.outputs[0]):
            d1 = f32(inv_r0 * f32(p - q))
            out.append(f32(f32(f32(ratio * v) - f32(c * q)) - f32(half_c * d1)))
        return out

    def add_noise(self, x, n, i):
        a, s = alpha_sigma(self.sigmas[i])
        return [f32(f32(a * p) + f32(s * q)) for p, q in zip(x, n)]


# ---------------------------------------------------------------- the runs the tests pin

L = 16


def sample0():
    return [f32(math.sin(i * 0.37)) for i in range(L)]


def model_output(call):
    return [f32(math.cos(i * 0.11 + call * 0.23)) for i in range(L)]


def noise_source():
    k = [0]

    def fill():
        out = [f32(1.3 * math.cos(i * 0.29 + k[0] * 0.61)) for i in range(L)]
        k[0] += 1
        return out
    return fill


def img2img_inputs():
    x = [f32(0.5 * math.cos(i * 0.41)) for i in range(L)]
    n = [f32(math.sin(i * 0.19 + 0.7)) for i in range(L)]
    return x, n


def make(name, cfg, eta):
    return build(name, CONFIGS[cfg], eta)


def build(name, c, eta=0.0):
    """The reference scheduler for a Replicate-style name and a config dict."""
    return {
        'PNDM': lambda: PNDM(c),
        'DDIM': lambda: DDIM(c, eta),
        'K_EULER': lambda: Euler(c),
        'K_EULER_ANCESTRAL': lambda: EulerAncestral(c),
        'DPMSolverMultistep': lambda: DPM(c),
        'KarrasDPM': lambda: DPM(c, True),
        'LMS': lambda: LMS(c),
        'HeunDiscrete': lambda: Heun(c),
        'DPMSolverMultistepSDE': lambda: DPM(c, sde=True),
        'KarrasDPMSDE': lambda: DPM(c, True, sde=True),
        'K_DPM_2': lambda: KDPM2(c),
        'K_DPM_2_ANCESTRAL': lambda: KDPM2Ancestral(c),
        'UniPCMultistep': lambda: UniPC(c),
        'LCM': lambda: LCM(c),
        'DEISMultistep': lambda: DEIS(c),
        'DPMSolverSinglestep': lambda: DPMSingle(c),
    }[name]()


def run(name, cfg, steps, eta=0.0, start=0):
    s = make(name, cfg, eta)
    s.set_timesteps(steps)
    noise = noise_source()
    if start == 0:
        x = sample0()
        noisy = None
    else:
        orig, nz = img2img_inputs()
        x = s.add_noise(orig, nz, start)
        noisy = list(x)
    scaled = s.scale(x, start)
    first = None
    for call, i in enumerate(range(start, len(s.timesteps))):
        x = s.step(model_output(call), i, x, noise)
        if first is None:
            first = list(x)
    return dict(scheduler=name, config=cfg, steps=steps, eta=eta, start=start, timesteps=s.timesteps,
                sigmas=s.sigmas, init=s.init_noise_sigma, scaled=scaled, noisy=noisy, first=first, final=x)


NAMES = ['PNDM', 'DDIM', 'K_EULER', 'K_EULER_ANCESTRAL', 'DPMSolverMultistep', 'KarrasDPM', 'LMS']
NEW_NAMES = ['HeunDiscrete', 'DPMSolverMultistepSDE', 'KarrasDPMSDE', 'K_DPM_2', 'K_DPM_2_ANCESTRAL', 'UniPCMultistep', 'LCM', 'DEISMultistep', 'DPMSolverSinglestep']
SIGMA_RAMP_NAMES = ['K_EULER', 'LMS', 'HeunDiscrete', 'K_DPM_2', 'K_DPM_2_ANCESTRAL', 'UniPCMultistep', 'DEISMultistep', 'DPMSolverSinglestep']
EXPONENTIAL_ONLY_NAMES = ['DPMSolverMultistep', 'DPMSolverMultistepSDE']


def cases():
    out = []
    for name in NAMES:
        for steps in (10, 25, 50):
            out.append(run(name, 'SD21Base', steps))
    for name in ('DDIM', 'K_EULER', 'PNDM', 'DPMSolverMultistep', 'LMS', 'K_EULER_ANCESTRAL'):
        out.append(run(name, 'VPrediction', 25))
    for name in NAMES:
        out.append(run(name, 'Linear', 25))
    for name in ('PNDM', 'DDIM', 'K_EULER', 'DPMSolverMultistep', 'LMS'):
        out.append(run(name, 'Linspace', 25))
        out.append(run(name, 'Trailing', 25))
    out.append(run('DDIM', 'SD21Base', 25, eta=0.7))
    out.append(run('DDIM', 'ClipSample', 25))
    for name in NAMES:
        out.append(run(name, 'SD21Base', 25, start=10))
    # The samplers added for issue 12: 10/25/50 steps, epsilon and v-prediction, img2img, and the sigma ramps.
    for name in NEW_NAMES:
        for cfg in ('SD21Base', 'VPrediction'):
            for steps in (10, 25, 50):
                out.append(run(name, cfg, steps))
        out.append(run(name, 'SD21Base', 25, start=10))
    for name in SIGMA_RAMP_NAMES:
        for cfg in ('Karras', 'Exponential'):
            out.append(run(name, cfg, 25))
    for name in EXPONENTIAL_ONLY_NAMES:
        out.append(run(name, 'Exponential', 25))
    return out


def lit(v):
    if v == math.inf:
        return 'double.PositiveInfinity'
    r = repr(float(v))
    return r


def arr(vs):
    return '[' + ', '.join(lit(v) for v in vs) + ']'


def main():
    print('// <auto-generated>')
    print('// Generated by reference/diffusers_reference.py (a pure-Python port of diffusers 0.37.0.dev0 scheduler maths).')
    print('// Do not edit; regenerate from the reference folder: python3 diffusers_reference.py > ../DiffusersReference.cs')
    print('// </auto-generated>')
    print('namespace StableDiffusion.Core.Tests.Schedulers;')
    print()
    print('internal static class DiffusersReference')
    print('{')
    print('    public static readonly ReferenceCase[] Cases =')
    print('    [')
    for c in cases():
        noisy = 'null' if c['noisy'] is None else arr(c['noisy'])
        print(f'        new("{c["scheduler"]}", "{c["config"]}", {c["steps"]}, Eta: {lit(c["eta"])}, Start: {c["start"]},')
        print(f'            Timesteps: {arr(c["timesteps"])},')
        print(f'            Sigmas: {arr(c["sigmas"])},')
        print(f'            InitNoiseSigma: {lit(c["init"])},')
        print(f'            Scaled: {arr(c["scaled"])},')
        print(f'            Noisy: {noisy},')
        print(f'            FirstStep: {arr(c["first"])},')
        print(f'            Final: {arr(c["final"])}),')
    print('    ];')
    print('}')


if __name__ == '__main__':
    main()
