#!/usr/bin/env python3
"""Whole-step timings and board power of a Llama-3-8B bf16 forward pass in plain PyTorch.

Held-out measurements for InferSim: the simulator is calibrated from operator
microbenchmarks (shared/measurements/h200-pytorch-microbench.json) and must
predict these whole steps, which are never used in any fit.

Model
  Llama-3-8B shapes with RANDOM bf16 weights (normal, std 0.02; RMSNorm weights
  1). Timing does not depend on the values. hidden 4096, 32 layers, 32 query
  heads, 8 KV heads, head dim 128, FFN 14336 (SwiGLU), vocab 128256, RMSNorm
  (torch.nn.functional.rms_norm, eps 1e-5), RoPE (theta 500000, rotate-half,
  bf16 cos/sin tables gathered per token). Weights are stored [K, N] and applied
  with torch.matmul(x, W), like the microbenchmark: fused QKV 4096x6144, O
  4096x4096, fused gate+up 4096x28672, down 14336x4096, LM head 4096x128256.
  The LM head is applied to the LAST token of each sequence only (1 row for a
  prefill, B rows for B decodes, B+1 rows for a mixed step).

KV cache
  One preallocated bf16 pool (all free GPU memory less a headroom), filled once
  with N(0,1). Every step carves per-layer K and V views out of it, contiguous
  [n_seq, 8, len, 128], so nothing is reallocated between points. Where the
  per-layer caches of a point do not fit (B*(L+1) above ~0.93M tokens), ONE K
  and ONE V buffer are shared by all 32 layers ("kv_layout":
  "shared_across_layers"): every layer still reads its full B*(L+1) K/V from
  HBM (>= 4 GB per layer there, against a 60 MB L2), so the traffic is the same;
  three points that fit both ways are measured both ways to show it.

Steps
  decode : B sequences, each with L cached tokens; one new token per sequence at
           position L, written into the cache, attention over L+1 positions.
  prefill: one sequence of S tokens, causal, positions 0..S-1.
  mixed  : one prefill chunk of C tokens with P earlier tokens of that sequence
           already cached, plus B decodes at context L, run as a simple engine
           would: the C+B token rows go through every linear layer (and norms,
           RoPE, residuals) as ONE matrix; attention runs separately per part
           (the chunk: causal over P+C keys, bottom-right aligned; the decodes:
           as in a decode step) and the outputs are concatenated.

Attention
  torch.nn.functional.scaled_dot_product_attention with enable_gqa=True (no
  expansion of K/V), forced to the FLASH_ATTENTION backend with
  torch.nn.attention.sdpa_kernel so it errors rather than silently falling
  back. A prefill chunk with P > 0 earlier tokens (non-square causal) is not
  accepted by SDPA's flash path, so it calls the same FlashAttention-2 kernel
  directly, torch.ops.aten._scaled_dot_product_flash_attention(is_causal=True),
  whose causal mask is bottom-right aligned; a start-up probe checks every path
  against a float32 reference and records the backend actually used.

Timing
  CUDA events around one step, synchronised after each step (a serving engine
  syncs every step to sample). 2 warm-ups, one timed step to size the run, then
  reps = clamp(0.4 s / step, 3, 20); time_s is the median, min_s the minimum.
  Each point is timed eagerly and as a CUDA graph (torch.cuda.CUDAGraph,
  captured after a side-stream warm-up, replayed; the graph's launch is inside
  the events).

Power
  pynvml samples every 50 ms (board power nvmlDeviceGetPowerUsage, instant
  power field where the driver has it, SM and memory clocks) while a step runs
  in a loop for a few seconds; the first second is dropped from the statistics
  (NVML's power reading is a 1 s average on Hopper). Joules per step = steady
  mean power x loop time per step; the energy counter's difference is recorded
  beside it.

Usage
  PYTHONUNBUFFERED=1 python3 tools/measure/h200_llama3_8b_steps.py --out $OUT/h200-llama3-8b-steps.json
  python3 tools/measure/h200_llama3_8b_steps.py --smoke      # tiny model, CPU allowed
"""

import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import traceback

T0 = time.time()


def log(msg):
    print(f"[{time.time() - T0:6.1f}s] {msg}", flush=True)


import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

try:
    from torch.nn.attention import SDPBackend, sdpa_kernel
except Exception:  # very old torch
    SDPBackend = None
    sdpa_kernel = None


# ----------------------------------------------------------------------------- config

class Cfg:
    def __init__(self, smoke):
        if smoke:
            self.hidden, self.layers, self.heads, self.kv_heads, self.head_dim = 256, 2, 8, 2, 32
            self.ffn, self.vocab, self.max_pos = 512, 1024, 4096
        else:
            self.hidden, self.layers, self.heads, self.kv_heads, self.head_dim = 4096, 32, 32, 8, 128
            self.ffn, self.vocab, self.max_pos = 14336, 128256, 16384 + 64
        self.theta, self.eps = 500000.0, 1e-5
        self.q_dim = self.heads * self.head_dim
        self.kv_dim = self.kv_heads * self.head_dim

    def kv_bytes_per_token(self):
        """K and V bytes of one token over all layers (bf16)."""
        return self.layers * 2 * self.kv_dim * 2

    def as_dict(self):
        return {"hidden": self.hidden, "layers": self.layers, "q_heads": self.heads,
                "kv_heads": self.kv_heads, "head_dim": self.head_dim, "ffn": self.ffn,
                "vocab": self.vocab, "rope_theta": self.theta, "rms_eps": self.eps,
                "dtype": "bfloat16",
                "weight_shapes_KxN": {"qkv": [self.hidden, self.q_dim + 2 * self.kv_dim],
                                      "o": [self.q_dim, self.hidden],
                                      "gate_up": [self.hidden, 2 * self.ffn],
                                      "down": [self.ffn, self.hidden],
                                      "lm_head": [self.hidden, self.vocab],
                                      "embedding": [self.vocab, self.hidden]}}


GRID_FULL = {
    "decode_B": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    "decode_L": [128, 512, 2048, 8192, 16384],
    # points also measured with the shared-across-layers KV layout, to validate it
    "decode_shared_check": [(32, 16384), (64, 8192), (256, 2048)],
    "prefill_S": [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192],
    # (C chunk tokens, P earlier cached tokens of that sequence, B decodes, L decode context)
    "mixed": [(512, 0, 64, 1024), (256, 0, 32, 4096), (2048, 0, 16, 2048), (1024, 0, 128, 512),
              (512, 1536, 64, 1024), (2048, 4096, 16, 2048), (1024, 3072, 128, 512),
              (128, 0, 256, 1024), (256, 0, 256, 2048), (4096, 0, 8, 8192), (512, 0, 1, 2048),
              (1024, 7168, 64, 2048), (1024, 3072, 0, 0)],
    "attn_decode_B": [1, 4, 16, 64, 256],
    "attn_decode_L": [512, 4096, 16384],
    "attn_prefill_S": [512, 2048, 8192],
}
GRID_SMOKE = {
    "decode_B": [1, 2], "decode_L": [16, 64], "decode_shared_check": [(2, 64)],
    "prefill_S": [16, 32],
    "mixed": [(16, 0, 2, 32), (16, 16, 2, 32), (16, 16, 0, 0)],
    "attn_decode_B": [1, 2], "attn_decode_L": [64], "attn_prefill_S": [32],
}

# Seconds from script start after which no new point starts (the run's hard limit is
# ~7 min); each section also has its own budget so a slow section cannot starve the rest.
SECTION_BUDGET_S = {"decode": 200, "prefill": 45, "mixed": 45, "power": 45, "attention": 30}


# ----------------------------------------------------------------------------- helpers

def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def no_sdpa_limit():
    return contextlib.nullcontext()


def sdpa_only(*names):
    if sdpa_kernel is None:
        return contextlib.nullcontext()
    return sdpa_kernel([getattr(SDPBackend, n) for n in names])


def rope(x, cos, sin):
    """Rotate-half RoPE. x [T, H, D]; cos/sin [T, 1, D]."""
    half = x.shape[-1] // 2
    rot = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rot * sin


def rms_norm(x, w, eps):
    if hasattr(F, "rms_norm"):
        return F.rms_norm(x, (x.shape[-1],), w, eps)
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype) * w


def ref_attention(q, k, v, causal):
    """float32 reference: GQA by expansion, causal mask bottom-right aligned."""
    rep = q.shape[1] // k.shape[1]
    kf = k.float().repeat_interleave(rep, 1)
    vf = v.float().repeat_interleave(rep, 1)
    s = q.float() @ kf.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if causal:
        lq, lk = s.shape[-2], s.shape[-1]
        m = torch.ones(lq, lk, dtype=torch.bool, device=q.device).tril(diagonal=lk - lq)
        s = s.masked_fill(~m, float("-inf"))
    return torch.softmax(s, -1) @ vf


def err_str(e):
    return f"{type(e).__name__}: {str(e)[:400]}"


# ----------------------------------------------------------------------------- model

class Llama:
    def __init__(self, cfg, dev, dtype):
        self.cfg = cfg

        def w(*shape):
            return torch.empty(*shape, device=dev, dtype=dtype).normal_(0.0, 0.02)

        def ones(n):
            return torch.ones(n, device=dev, dtype=dtype)

        c = cfg
        self.emb = w(c.vocab, c.hidden)
        self.layers = []
        for _ in range(c.layers):
            self.layers.append((ones(c.hidden), w(c.hidden, c.q_dim + 2 * c.kv_dim), w(c.q_dim, c.hidden),
                                ones(c.hidden), w(c.hidden, 2 * c.ffn), w(c.ffn, c.hidden)))
        self.lnf = ones(c.hidden)
        self.lm_head = w(c.hidden, c.vocab)
        inv = 1.0 / (c.theta ** (torch.arange(0, c.head_dim, 2, dtype=torch.float64) / c.head_dim))
        f = torch.outer(torch.arange(c.max_pos, dtype=torch.float64), inv)
        e = torch.cat((f, f), dim=-1)
        self.cos = e.cos().to(device=dev, dtype=dtype)
        self.sin = e.sin().to(device=dev, dtype=dtype)

    def param_bytes(self):
        n = self.emb.numel() + self.lm_head.numel() + self.lnf.numel()
        n += sum(t.numel() for layer in self.layers for t in layer)
        return 2 * n

    def forward(self, tokens, pos, groups, lm_start):
        """tokens, pos: [T] int64. groups: attention parts covering the T rows in order.
        lm_start: first row that gets logits (the rows from there on are last tokens)."""
        c = self.cfg
        T = tokens.shape[0]
        x = F.embedding(tokens, self.emb)
        cos = F.embedding(pos, self.cos).unsqueeze(1)
        sin = F.embedding(pos, self.sin).unsqueeze(1)
        for li, (ln1, wqkv, wo, ln2, wgu, wdown) in enumerate(self.layers):
            h = rms_norm(x, ln1, c.eps)
            q, k, v = torch.matmul(h, wqkv).split((c.q_dim, c.kv_dim, c.kv_dim), dim=-1)
            q = rope(q.view(T, c.heads, c.head_dim), cos, sin)
            k = rope(k.view(T, c.kv_heads, c.head_dim), cos, sin)
            v = v.view(T, c.kv_heads, c.head_dim)
            if len(groups) == 1:
                o = groups[0].attend(li, q, k, v)
            else:
                o = torch.cat([g.attend(li, q, k, v) for g in groups], dim=0)
            x = x + torch.matmul(o, wo)
            h = rms_norm(x, ln2, c.eps)
            gate, up = torch.matmul(h, wgu).chunk(2, dim=-1)
            x = x + torch.matmul(F.silu(gate) * up, wdown)
        x = rms_norm(x[lm_start:], self.lnf, c.eps)
        return torch.matmul(x, self.lm_head)


class DecodeGroup:
    """B sequences with L cached tokens each; rows [s, e) are their new tokens.
    mode 'gqa': query [B, 32, 1, 128] with enable_gqa=True (the default);
    mode 'fold': the 4 query heads of a KV head as 4 query rows [B, 8, 4, 128] (fallback,
    used only if the probe finds flash rejects enable_gqa)."""

    def __init__(self, rows, L, kc, vc, mode="gqa"):
        self.rows, self.L, self.kc, self.vc, self.mode = rows, L, kc, vc, mode  # kc[li]: [B, KVH, L+1, D]

    def attend(self, li, q, k, v):
        s, e = self.rows
        kc, vc = self.kc[li], self.vc[li]
        kc[:, :, self.L] = k[s:e]
        vc[:, :, self.L] = v[s:e]
        if self.mode == "gqa":
            o = F.scaled_dot_product_attention(q[s:e].unsqueeze(2), kc, vc, enable_gqa=True)
        else:
            qf = q[s:e].view(e - s, kc.shape[1], -1, q.shape[-1])
            o = F.scaled_dot_product_attention(qf, kc, vc)
        return o.reshape(e - s, -1)


class ChunkGroup:
    """One sequence: P earlier tokens cached, rows [s, e) are its next C tokens (causal)."""

    def __init__(self, rows, P, kc, vc, mode):
        self.rows, self.P, self.kc, self.vc, self.mode = rows, P, kc, vc, mode  # kc[li]: [1, KVH, P+C, D]
        if P > 0 and mode == "expand_mask":
            C = rows[1] - rows[0]
            self.mask = torch.ones(C, P + C, dtype=torch.bool, device=kc[0].device).tril(diagonal=P)

    def attend(self, li, q, k, v):
        s, e = self.rows
        kc, vc = self.kc[li], self.vc[li]
        kc[0, :, self.P:] = k[s:e].transpose(0, 1)
        vc[0, :, self.P:] = v[s:e].transpose(0, 1)
        qq = q[s:e].transpose(0, 1).unsqueeze(0)  # [1, H, C, D]
        if self.P == 0:
            o = F.scaled_dot_product_attention(qq, kc, vc, is_causal=True, enable_gqa=True)
        elif self.mode == "aten_flash":
            # FlashAttention-2: causal with Lq < Lk is bottom-right aligned
            o = torch.ops.aten._scaled_dot_product_flash_attention(qq, kc, vc, 0.0, True)[0]
        else:
            rep = qq.shape[1] // kc.shape[1]
            with sdpa_only("EFFICIENT_ATTENTION", "MATH"):
                o = F.scaled_dot_product_attention(qq, kc.repeat_interleave(rep, 1),
                                                   vc.repeat_interleave(rep, 1), attn_mask=self.mask)
        return o[0].transpose(0, 1).reshape(e - s, -1)


class KVPool:
    """One big bf16 buffer from which per-step K/V cache views are carved."""

    def __init__(self, cfg, dev, dtype, n_elems):
        self.cfg = cfg
        self.buf = torch.empty(n_elems, device=dev, dtype=dtype)
        chunk = 1 << 30
        for i in range(0, n_elems, chunk):
            self.buf[i:i + chunk].normal_(0.0, 1.0)

    def carve(self, shapes, shared):
        """shapes: [(n_seq, length)] per group. Returns per group (k_list, v_list) over layers,
        or None if it does not fit."""
        c = self.cfg
        sizes = [n * c.kv_heads * ln * c.head_dim for n, ln in shapes]
        per_layer = sum(sizes)
        nl = 1 if shared else c.layers
        if 2 * nl * per_layer > self.buf.numel():
            return None
        out = [([], []) for _ in shapes]
        off = 0
        for li in range(nl):
            for kv in (0, 1):
                for gi, ((n, ln), sz) in enumerate(zip(shapes, sizes)):
                    out[gi][kv].append(self.buf[off:off + sz].view(n, c.kv_heads, ln, c.head_dim))
                    off += sz
        if shared:
            out = [(k * c.layers, v * c.layers) for k, v in out]
        return out


DECODE_MODE = "gqa"  # set from the attention probe


def build_step(model, pool, parts, shared, chunk_mode, dev):
    """parts: [('chunk', P, C)] and/or [('decode', B, L)] (chunk first). Returns (fn, info) or None."""
    c = model.cfg
    shapes = []
    for kind, a, b in parts:
        shapes.append((1, a + b) if kind == "chunk" else (a, b + 1))
    views = pool.carve(shapes, shared)
    if views is None:
        return None
    groups, pos, row, lm_start = [], [], 0, 0
    for (kind, a, b), (kc, vc) in zip(parts, views):
        if kind == "chunk":
            P, C = a, b
            groups.append(ChunkGroup((row, row + C), P, kc, vc, chunk_mode))
            pos.append(torch.arange(P, P + C, dtype=torch.long))
            row += C
            lm_start = row - 1
        else:
            B, L = a, b
            groups.append(DecodeGroup((row, row + B), L, kc, vc, DECODE_MODE))
            pos.append(torch.full((B,), L, dtype=torch.long))
            row += B
    T = row
    tokens = torch.randint(0, c.vocab, (T,), dtype=torch.long).to(dev)
    pos = torch.cat(pos).to(dev)

    def fn():
        return model.forward(tokens, pos, groups, lm_start)

    kv_read = sum(n * ln for n, ln in shapes) * c.kv_bytes_per_token()
    return fn, {"tokens": T, "lm_head_rows": T - lm_start, "kv_bytes_attended": kv_read}


# ----------------------------------------------------------------------------- timing

class Bench:
    def __init__(self, dev, use_graphs):
        self.dev = dev
        self.cuda = dev.type == "cuda"
        self.use_graphs = use_graphs and self.cuda
        self.graph_failures = 0

    def time_fn(self, fn, warm=2, target_s=0.4, min_reps=3, max_reps=20, fixed_reps=None):
        for _ in range(warm):
            fn()
        sync(self.dev)
        t_est = self._one(fn)[0]
        reps = fixed_reps or max(min_reps, min(max_reps, int(target_s / max(t_est, 1e-6))))
        times, walls = [], []
        for _ in range(reps):
            t, wl = self._one(fn)
            times.append(t)
            walls.append(wl)
        return {"time_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
                "reps": reps, "wall_median_s": statistics.median(walls)}

    def _one(self, fn):
        if self.cuda:
            a = torch.cuda.Event(enable_timing=True)
            b = torch.cuda.Event(enable_timing=True)
            w0 = time.perf_counter()
            a.record()
            fn()
            b.record()
            b.synchronize()
            return a.elapsed_time(b) / 1e3, time.perf_counter() - w0
        w0 = time.perf_counter()
        fn()
        w = time.perf_counter() - w0
        return w, w

    def capture(self, fn):
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            fn()
        torch.cuda.current_stream().wait_stream(s)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            out = fn()
        return g, out

    def measure(self, fn, modes=("eager", "cudagraph")):
        """Returns {mode: record}; a mode that fails gets {'error': ...}."""
        res = {}
        if "eager" in modes:
            r = self.time_fn(fn)
            out = fn()
            r["finite"] = bool(torch.isfinite(out).all().item())
            res["eager"] = r
            del out
        if "cudagraph" in modes and self.use_graphs and self.graph_failures < 3:
            try:
                g, out = self.capture(fn)
                r = self.time_fn(g.replay)
                r["finite"] = bool(torch.isfinite(out).all().item())
                res["cudagraph"] = r
                del g, out
                torch.cuda.empty_cache()  # release the graph's private pool
            except Exception as e:
                self.graph_failures += 1
                res["cudagraph"] = {"error": err_str(e)}
                log(f"  graph failed: {err_str(e)}")
        return res


# ----------------------------------------------------------------------------- power

class Nvml:
    def __init__(self):
        self.ok = False
        self.err = None
        try:
            import pynvml
            self.n = pynvml
            pynvml.nvmlInit()
            idx = 0
            cnt = pynvml.nvmlDeviceGetCount()
            if cnt > 1 and torch.cuda.is_available():
                want = str(getattr(torch.cuda.get_device_properties(0), "uuid", ""))
                for i in range(cnt):
                    u = pynvml.nvmlDeviceGetUUID(pynvml.nvmlDeviceGetHandleByIndex(i))
                    u = u.decode() if isinstance(u, bytes) else u
                    if want and want in u:
                        idx = i
            self.h = pynvml.nvmlDeviceGetHandleByIndex(idx)
            self.inst_field = getattr(pynvml, "NVML_FI_DEV_POWER_INSTANT", None)
            self.ok = True
        except Exception as e:
            self.err = err_str(e)

    def _try(self, f, *a):
        try:
            return f(self.h, *a)
        except Exception:
            return None

    def power_w(self):
        v = self._try(self.n.nvmlDeviceGetPowerUsage)
        return None if v is None else v / 1000.0

    def power_instant_w(self):
        if self.inst_field is None:
            return None
        try:
            fv = self.n.nvmlDeviceGetFieldValues(self.h, [self.inst_field])[0]
            if fv.nvmlReturn != 0:
                self.inst_field = None
                return None
            t = fv.valueType
            val = {0: fv.value.dVal, 1: fv.value.uiVal, 2: fv.value.ulVal, 3: fv.value.ullVal,
                   4: fv.value.sllVal}.get(t, fv.value.uiVal)
            return val / 1000.0
        except Exception:
            self.inst_field = None
            return None

    def clocks(self):
        return (self._try(self.n.nvmlDeviceGetClockInfo, self.n.NVML_CLOCK_SM),
                self._try(self.n.nvmlDeviceGetClockInfo, self.n.NVML_CLOCK_MEM))

    def energy_j(self):
        v = self._try(self.n.nvmlDeviceGetTotalEnergyConsumption)
        return None if v is None else v / 1000.0

    def info(self):
        if not self.ok:
            return {"error": self.err}
        n = self.n
        d = {}
        for key, f, a in [("max_sm_clock_MHz", n.nvmlDeviceGetMaxClockInfo, (n.NVML_CLOCK_SM,)),
                          ("max_mem_clock_MHz", n.nvmlDeviceGetMaxClockInfo, (n.NVML_CLOCK_MEM,)),
                          ("app_sm_clock_MHz", n.nvmlDeviceGetApplicationsClock, (n.NVML_CLOCK_SM,)),
                          ("app_mem_clock_MHz", n.nvmlDeviceGetApplicationsClock, (n.NVML_CLOCK_MEM,)),
                          ("power_limit_mW", n.nvmlDeviceGetEnforcedPowerLimit, ()),
                          ("temperature_C", n.nvmlDeviceGetTemperature, (n.NVML_TEMPERATURE_GPU,))]:
            d[key] = self._try(f, *a)
        sm, mem = self.clocks()
        d["sm_clock_MHz_now"], d["mem_clock_MHz_now"] = sm, mem
        d["power_instant_field_available"] = self.power_instant_w() is not None
        d["energy_counter_available"] = self.energy_j() is not None
        return d

    def throttle_reasons(self):
        for name in ("nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"):
            f = getattr(self.n, name, None)
            if f is not None:
                v = self._try(f)
                if v is not None:
                    return int(v)
        return None


class Sampler(threading.Thread):
    def __init__(self, nv, period=0.05):
        super().__init__(daemon=True)
        self.nv, self.period = nv, period
        self.samples = []
        self.stop_evt = threading.Event()

    def run(self):
        while not self.stop_evt.is_set():
            t = time.perf_counter()
            sm, mem = self.nv.clocks()
            self.samples.append((t, self.nv.power_w(), self.nv.power_instant_w(), sm, mem))
            self.stop_evt.wait(max(0.0, self.period - (time.perf_counter() - t)))


def power_loop(nv, dev, name, fn, seconds, tokens_per_step, sync_every=1, extra=None):
    """Run fn back to back for `seconds` while sampling NVML. fn None = idle."""
    if fn is not None:  # bring clocks up before the sampled window
        t = time.perf_counter()
        while time.perf_counter() - t < 0.5:
            fn()
            sync(dev)
    sync(dev)
    sampler = Sampler(nv)
    e0 = nv.energy_j()
    t0 = time.perf_counter()
    sampler.start()
    n = 0
    while time.perf_counter() - t0 < seconds:
        if fn is None:
            time.sleep(0.05)
            continue
        fn()
        n += 1
        if n % sync_every == 0:
            sync(dev)
    sync(dev)
    t1 = time.perf_counter()
    e1 = nv.energy_j()
    sampler.stop_evt.set()
    sampler.join()
    steady = [s for s in sampler.samples if s[0] >= t0 + 1.0]

    def stats(idx):
        vals = [s[idx] for s in steady if s[idx] is not None]
        if not vals:
            return None
        return {"mean": statistics.fmean(vals), "median": statistics.median(vals),
                "min": min(vals), "max": max(vals), "n": len(vals)}

    rec = {"name": name, "seconds": t1 - t0, "steps": n,
           "power_W": stats(1), "power_instant_W": stats(2),
           "sm_clock_MHz": stats(3), "mem_clock_MHz": stats(4),
           "clock_event_reasons_after": nv.throttle_reasons(),
           "samples_t_s_W_instW_smMHz_memMHz": [[round(s[0] - t0, 3), s[1], s[2], s[3], s[4]]
                                               for s in sampler.samples]}
    if e0 is not None and e1 is not None:
        rec["energy_counter_J"] = e1 - e0
        rec["energy_counter_mean_W"] = (e1 - e0) / (t1 - t0)
    if n > 0:
        step = (t1 - t0) / n
        rec["step_time_s_in_loop"] = step
        p = rec["power_W"]["mean"] if rec["power_W"] else None
        if p is not None:
            rec["joules_per_step"] = p * step
            if tokens_per_step:
                rec["tokens_per_step"] = tokens_per_step
                rec["joules_per_token"] = p * step / tokens_per_step
        if "energy_counter_J" in rec:
            rec["energy_counter_J_per_step"] = rec["energy_counter_J"] / n
    if extra:
        rec.update(extra)
    return rec


# ----------------------------------------------------------------------------- device info

def device_info(dev, nv):
    d = {"torch": torch.__version__, "cuda_runtime": torch.version.cuda,
         "python": sys.version.split()[0], "host_cpu": platform.processor() or platform.machine()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    d["host_cpu"] = line.split(":", 1)[1].strip()
                    break
        d["host_cpu_count"] = os.cpu_count()
    except Exception:
        pass
    if dev.type != "cuda":
        d["device"] = "cpu"
        return d
    p = torch.cuda.get_device_properties(0)
    d.update({"device": torch.cuda.get_device_name(0), "sm_count": p.multi_processor_count,
              "total_memory_bytes": p.total_memory, "capability": f"{p.major}.{p.minor}",
              "l2_cache_bytes": getattr(p, "L2_cache_size", None),
              "cudnn": torch.backends.cudnn.version()})
    try:
        q = "name,driver_version,memory.total,power.limit,clocks.max.sm,clocks.max.memory,clocks.sm,clocks.mem,pstate"
        r = subprocess.run(["nvidia-smi", f"--query-gpu={q}", "--format=csv,noheader"],
                           capture_output=True, text=True, timeout=30)
        d["nvidia_smi_query"] = q
        d["nvidia_smi"] = r.stdout.strip()
        d["driver"] = r.stdout.split(",")[1].strip() if r.stdout.count(",") >= 1 else None
        r2 = subprocess.run(["nvidia-smi"], capture_output=True, text=True, timeout=30)
        for line in r2.stdout.splitlines():
            if "CUDA Version" in line:
                d["nvidia_smi_header"] = " ".join(line.strip("| ").split())
    except Exception as e:
        d["nvidia_smi_error"] = err_str(e)
    d["nvml"] = nv.info() if nv is not None else None
    return d


# ----------------------------------------------------------------------------- attention probe

def probe_attention(cfg, dev, dtype):
    """Check which SDPA paths work here and agree with a float32 reference."""
    H, KVH, D = cfg.heads, cfg.kv_heads, cfg.head_dim
    res = {}

    def r(*s):
        return torch.randn(*s, device=dev, dtype=dtype)

    cases = {"decode": (r(2, H, 1, D), r(2, KVH, 40, D), r(2, KVH, 40, D), False),
             "prefill_causal": (r(1, H, 48, D), r(1, KVH, 48, D), r(1, KVH, 48, D), True)}
    flash_ok = True
    res["decode_mode"] = "gqa"
    for name, (q, k, v, causal) in cases.items():
        ref = ref_attention(q, k, v, causal)
        try:
            with sdpa_only("FLASH_ATTENTION"):
                o = F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)
            res[name] = {"backend": "FLASH_ATTENTION", "max_abs_err": (o.float() - ref).abs().max().item()}
        except Exception as e:
            if name == "decode" and dev.type == "cuda":
                try:  # fold the query heads of each KV head into query rows
                    with sdpa_only("FLASH_ATTENTION"):
                        o = F.scaled_dot_product_attention(q.view(2, KVH, H // KVH, D), k, v)
                    res[name] = {"backend": "FLASH_ATTENTION (folded query heads; enable_gqa rejected)",
                                 "flash_gqa_error": err_str(e),
                                 "max_abs_err": (o.reshape(ref.shape).float() - ref).abs().max().item()}
                    res["decode_mode"] = "fold"
                    continue
                except Exception:
                    pass
            flash_ok = False
            o = F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)
            res[name] = {"backend": "auto (flash rejected)", "flash_error": err_str(e),
                         "max_abs_err": (o.float() - ref).abs().max().item()}
    # prefill chunk after P = 32 cached tokens: 24 queries over 56 keys, bottom-right causal
    q, k, v = r(1, H, 24, D), r(1, KVH, 56, D), r(1, KVH, 56, D)
    ref = ref_attention(q, k, v, True)
    mode = "expand_mask"
    try:
        o = torch.ops.aten._scaled_dot_product_flash_attention(q, k, v, 0.0, True)[0]
        err = (o.float() - ref).abs().max().item()
        res["chunk_with_prefix_aten_flash"] = {"max_abs_err": err}
        if err < 0.05:
            mode = "aten_flash"
    except Exception as e:
        res["chunk_with_prefix_aten_flash"] = {"error": err_str(e)}
    if mode == "expand_mask":
        m = torch.ones(24, 56, dtype=torch.bool, device=dev).tril(diagonal=32)
        with sdpa_only("EFFICIENT_ATTENTION", "MATH"):
            o = F.scaled_dot_product_attention(q, k.repeat_interleave(H // KVH, 1),
                                               v.repeat_interleave(H // KVH, 1), attn_mask=m)
        res["chunk_with_prefix_expand_mask"] = {"max_abs_err": (o.float() - ref).abs().max().item()}
    res["chunk_with_prefix_mode"] = mode
    res["flash_forced"] = flash_ok and dev.type == "cuda"
    return res


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.environ.get("OUT", "."), "h200-llama3-8b-steps.json"))
    ap.add_argument("--smoke", action="store_true", help="tiny 2-layer model, few points, CPU allowed")
    ap.add_argument("--guard-s", type=float, default=390.0, help="no new point after this many seconds")
    ap.add_argument("--headroom-gib", type=float, default=10.0, help="GPU memory left out of the KV pool")
    ap.add_argument("--no-graphs", action="store_true")
    ap.add_argument("--no-power", action="store_true")
    args = ap.parse_args()

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if dev.type != "cuda" and not args.smoke:
        sys.exit("no CUDA device; use --smoke for a CPU run")
    dtype = torch.bfloat16
    cfg = Cfg(args.smoke)
    grid = GRID_SMOKE if args.smoke else GRID_FULL
    torch.manual_seed(0)
    torch.set_grad_enabled(False)

    nv = Nvml() if dev.type == "cuda" else None
    out = {
        "description": None, "method": None,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "PYTHONUNBUFFERED=1 python3 tools/measure/h200_llama3_8b_steps.py " + " ".join(sys.argv[1:]),
        "smoke": args.smoke, "model": cfg.as_dict(), "device_info": device_info(dev, nv),
        "decode": [], "prefill": [], "mixed": [], "power": [],
        "decode_attention": [], "prefill_attention": [], "skipped": [], "errors": [],
    }
    log(f"device: {out['device_info'].get('device')} torch {torch.__version__} "
        f"driver {out['device_info'].get('driver')}")

    def write():
        out["elapsed_s"] = time.time() - T0
        d = os.path.dirname(os.path.abspath(args.out))
        os.makedirs(d, exist_ok=True)
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(out, f, indent=1)
        os.replace(tmp, args.out)

    out["grid"] = grid
    out["section_budget_s"] = SECTION_BUDGET_S
    out["guard_s"] = args.guard_s
    try:
        run_all(args, dev, dtype, cfg, grid, nv, out, write)
    except BaseException as e:  # still leave what was measured
        out["fatal"] = {"error": err_str(e), "trace": traceback.format_exc()[-3000:]}
        log(f"FATAL {err_str(e)}")
        write()
        raise


def run_all(args, dev, dtype, cfg, grid, nv, out, write):
    # ---- model + KV pool
    model = Llama(cfg, dev, dtype)
    sync(dev)
    log(f"model built: {model.param_bytes() / 1e9:.2f} GB of weights")
    headroom = args.headroom_gib
    for attempt in range(3):
        if dev.type == "cuda":
            free, _ = torch.cuda.mem_get_info()
            pool_elems = int((free - headroom * 2**30) // 2)
        else:
            pool_elems = 16 << 20
        try:
            pool = KVPool(cfg, dev, dtype, pool_elems)
            sync(dev)
            break
        except torch.cuda.OutOfMemoryError as e:
            log(f"KV pool of {pool_elems * 2 / 2**30:.1f} GiB failed ({err_str(e)[:80]}); more headroom")
            torch.cuda.empty_cache()
            headroom += 8
    else:
        raise RuntimeError("could not allocate the KV pool")
    cap_tokens = pool_elems * 2 // cfg.kv_bytes_per_token()
    out["kv_pool"] = {"bytes": pool_elems * 2, "tokens_with_per_layer_caches": cap_tokens,
                      "headroom_GiB": headroom}
    log(f"KV pool {pool_elems * 2 / 2**30:.1f} GiB = {cap_tokens} tokens with per-layer caches")

    try:
        probe = probe_attention(cfg, dev, dtype)
    except Exception as e:
        probe = {"error": err_str(e), "trace": traceback.format_exc()[-1500:], "decode_mode": "gqa",
                 "chunk_with_prefix_mode": "expand_mask", "flash_forced": False}
    out["attention_probe"] = probe
    chunk_mode = probe["chunk_with_prefix_mode"]
    global DECODE_MODE
    DECODE_MODE = probe["decode_mode"]
    log(f"attention probe: {json.dumps(probe)}")
    attn_ctx = sdpa_only("FLASH_ATTENTION") if probe["flash_forced"] else no_sdpa_limit()
    bench = Bench(dev, use_graphs=not args.no_graphs)

    out["description"] = (
        f"Whole forward steps of a Llama-3-8B-shaped bf16 model (random weights) in plain PyTorch "
        f"{torch.__version__} (CUDA {torch.version.cuda}) on {out['device_info'].get('device')}: "
        "cuBLAS matrix products via torch.matmul, FlashAttention-2 via scaled_dot_product_attention. "
        "Decode at batch 1-512 x context 128-16384, eager and CUDA-graph replay; prefill of 32-8192 tokens; "
        "mixed chunked-prefill steps; board power of steady loops; extra attention microbenchmarks. "
        "Held out from every fit. Made by tools/measure/h200_llama3_8b_steps.py.")
    out["method"] = {
        "model": "Llama-3-8B shapes, random bf16 weights N(0,0.02); weights [K,N] applied by torch.matmul "
                 "(fused QKV 4096x6144, O 4096x4096, fused gate+up 4096x28672, down 14336x4096); "
                 "F.rms_norm; rotate-half RoPE theta 5e5 from bf16 tables; SwiGLU; embedding gather; "
                 "final norm and the 4096x128256 LM head on the LAST token of each sequence only.",
        "kv_cache": "bf16 per-layer K and V views [n_seq, 8, len, 128] carved from one preallocated pool "
                    "filled with N(0,1). kv_layout 'per_layer': 32 distinct caches (real). "
                    "'shared_across_layers': used only where per-layer caches do not fit the pool; one K "
                    "and one V buffer read by all 32 layers, each layer still streaming its full "
                    ">= 4 GB of K/V from HBM (L2 is 60 MB); checked on points that fit both ways "
                    "(records with 'layout_check': true).",
        "attention": "F.scaled_dot_product_attention(enable_gqa=True), K/V not expanded, restricted to "
                     "the FLASH_ATTENTION backend with torch.nn.attention.sdpa_kernel (an unsupported "
                     "shape raises instead of falling back). Decode: query [B,32,1,128] over the "
                     "[B,8,L+1,128] cache, not causal (FA2 folds the 4 query heads of a KV head into "
                     "query rows for a single-token query). Prefill: [1,32,S,128] causal over the cache. "
                     "Chunk with P>0 cached tokens: torch.ops.aten._scaled_dot_product_flash_attention("
                     "is_causal=True), the same FA2 kernel, bottom-right causal; see attention_probe for "
                     "the check of each path against a float32 reference.",
        "decode": "B sequences each with L cached tokens; one step = embed B tokens, 32 layers (new K/V "
                  "written at position L, attention over L+1), LM head on B rows. time_s = median over "
                  "reps of CUDA-event time of one step with a device sync after each; 2 warm-ups, one "
                  "sizing step, reps = clamp(0.4 s/step, 3, 20). mode 'eager' = Python launches each "
                  "kernel (CPU launch overhead included); mode 'cudagraph' = the same step captured "
                  "once in a torch.cuda.CUDAGraph (after a side-stream warm-up) and replayed.",
        "prefill": "One sequence of S tokens at positions 0..S-1, causal attention, K/V written to the "
                   "cache, LM head on the last token only. Timed like decode, eager and graph.",
        "mixed": "One step of a simple chunked-prefill engine: C prompt tokens of one sequence (P of its "
                 "tokens already cached) followed by B decode tokens (context L). All C+B rows go through "
                 "embedding, norms, RoPE, every matrix product and the residuals as ONE [C+B, .] matrix; "
                 "attention runs separately: the chunk causal over P+C keys (bottom-right), the decodes "
                 "as in a decode step; outputs concatenated before the O projection. LM head on B+1 rows "
                 "(last chunk token + decodes). Timed like decode, eager and graph.",
        "power": "pynvml every 50 ms: nvmlDeviceGetPowerUsage (board power; a 1 s average on Hopper), "
                 "the instant-power field where available, SM and memory clocks. The step runs back to "
                 "back (device sync after each step, GEMM every 10) for the loop's seconds after 0.5 s "
                 "of unsampled warm-up; statistics use samples from 1 s into the loop on. step_time_s_in_loop "
                 "= loop wall time / steps; joules_per_step = mean power x that; joules_per_token = / "
                 "tokens per step; energy_counter_J = nvmlDeviceGetTotalEnergyConsumption difference "
                 "over the loop. 'idle' = CUDA context and all memory held, nothing running.",
        "decode_attention": "as in h200-pytorch-microbench.json: one decode query per sequence, GQA 32 "
                            "query heads over 8 KV heads, head dim 128, B sequences of L cached positions; "
                            "the 4 query heads of a KV head passed as 4 query rows (exact for decode); "
                            "kv_bytes = K and V bytes read; times per backend in seconds (MATH only where "
                            "kv_bytes <= 1 GiB); FLASH_ATTENTION_enable_gqa = the model's call "
                            "([B,32,1,128] query, enable_gqa=True). Median of up to 20 CUDA-event-timed "
                            "runs after 3 warm-ups.",
        "prefill_attention": "one causal self-attention of S tokens, [1,32,S,128] query over [1,8,S,128] "
                             "K/V, enable_gqa=True, FLASH_ATTENTION; TFLOPs counts 2*2*S*S*128*32/2 "
                             "(causal half). Median of up to 20 runs after 3 warm-ups.",
    }
    write()

    def section_open(name):
        return time.time() - T0, SECTION_BUDGET_S[name]

    def can_run(name, sec_start, budget, point):
        el = time.time() - T0
        if el > args.guard_s or el - sec_start > budget:
            out["skipped"].append({"section": name, "point": point,
                                   "reason": f"time guard (t={el:.0f}s, section budget {budget}s)"})
            return False
        return True

    def rec_modes(base, res):
        recs = []
        for mode, r in res.items():
            x = dict(base)
            x["mode"] = mode
            x.update(r)
            recs.append(x)
        return recs

    def run_point(section, parts, base, shared=False, modes=("eager", "cudagraph")):
        try:
            built = build_step(model, pool, parts, shared, chunk_mode, dev)
            if built is None:
                out["skipped"].append({"section": section, "point": base,
                                       "reason": "K/V does not fit the pool"})
                log(f"  {section} {base}: does not fit, skipped")
                return None
            fn, info = built
            base = dict(base, **info)
            res = bench.measure(fn, modes)
            del fn
            for r in rec_modes(base, res):
                out[section].append(r)
            return res
        except Exception as e:
            out["errors"].append({"section": section, "point": base, "error": err_str(e),
                                  "trace": traceback.format_exc()[-1500:]})
            log(f"  {section} {base}: ERROR {err_str(e)}")
            if dev.type == "cuda":
                torch.cuda.empty_cache()
            return None

    def fmt(res, mode):
        r = (res or {}).get(mode, {})
        return f"{r['time_s'] * 1e3:8.3f}" if "time_s" in r else "     n/a"

    with torch.inference_mode(), attn_ctx:
        # ---- decode grid
        s0, bud = section_open("decode")
        log("decode grid (ms: eager / cudagraph)")
        for L in grid["decode_L"]:
            for B in grid["decode_B"]:
                if not can_run("decode", s0, bud, {"B": B, "L": L}):
                    continue
                shared = B * (L + 1) > cap_tokens
                base = {"B": B, "L": L, "prefill_tokens": 0, "prior_tokens": 0, "decode_seqs": B,
                        "context": L, "attended_kv_len": L + 1,
                        "kv_layout": "shared_across_layers" if shared else "per_layer"}
                res = run_point("decode", [("decode", B, L)], base, shared=shared)
                log(f"  decode B={B:4d} L={L:6d} {base['kv_layout'][:6]}: {fmt(res, 'eager')} / {fmt(res, 'cudagraph')}")
            write()
        for B, L in grid["decode_shared_check"]:
            if not can_run("decode", s0, bud, {"B": B, "L": L, "layout_check": True}):
                continue
            base = {"B": B, "L": L, "prefill_tokens": 0, "prior_tokens": 0, "decode_seqs": B, "context": L,
                    "attended_kv_len": L + 1, "kv_layout": "shared_across_layers", "layout_check": True}
            res = run_point("decode", [("decode", B, L)], base, shared=True, modes=("cudagraph",))
            log(f"  layout check shared B={B} L={L}: graph {fmt(res, 'cudagraph')}")
        write()

        # ---- prefill
        s0, bud = section_open("prefill")
        log("prefill (ms: eager / cudagraph)")
        for S in grid["prefill_S"]:
            if not can_run("prefill", s0, bud, {"S": S}):
                continue
            base = {"S": S, "prefill_tokens": S, "prior_tokens": 0, "decode_seqs": 0, "context": 0,
                    "kv_layout": "per_layer"}
            res = run_point("prefill", [("chunk", 0, S)], base)
            log(f"  prefill S={S:5d}: {fmt(res, 'eager')} / {fmt(res, 'cudagraph')}")
        write()

        # ---- mixed
        s0, bud = section_open("mixed")
        log("mixed (ms: eager / cudagraph)")
        for C, P, B, L in grid["mixed"]:
            if not can_run("mixed", s0, bud, {"C": C, "P": P, "B": B, "L": L}):
                continue
            parts = [("chunk", P, C)] + ([("decode", B, L)] if B > 0 else [])
            base = {"C": C, "P": P, "B": B, "L": L, "prefill_tokens": C, "prior_tokens": P,
                    "decode_seqs": B, "context": L, "kv_layout": "per_layer",
                    "chunk_attention": "sdpa_flash_causal" if P == 0 else chunk_mode}
            res = run_point("mixed", parts, base)
            log(f"  mixed C={C:5d} P={P:5d} B={B:4d} L={L:5d}: {fmt(res, 'eager')} / {fmt(res, 'cudagraph')}")
        write()

        # ---- power
        if dev.type == "cuda" and not args.no_power and nv is not None and nv.ok:
            s0, bud = section_open("power")
            log("power loops")
            loops = [("idle", None), ("decode_B1_L1024_cudagraph", ("decode", 1, 1024)),
                     ("decode_B256_L2048_cudagraph", ("decode", 256, 2048)),
                     ("prefill_S4096_eager", ("chunk", 0, 4096)), ("gemm_bf16_8192", "gemm")]
            for name, what in loops:
                if not can_run("power", s0, bud, {"name": name}):
                    continue
                try:
                    if what is None:
                        rec = power_loop(nv, dev, name, None, 3.0, None)
                    elif what == "gemm":
                        a = torch.randn(8192, 8192, device=dev, dtype=dtype)
                        b = torch.randn(8192, 8192, device=dev, dtype=dtype)
                        c = torch.empty(8192, 8192, device=dev, dtype=dtype)
                        rec = power_loop(nv, dev, name, lambda: torch.matmul(a, b, out=c), 4.0, None,
                                         sync_every=10, extra={"flops_per_step": 2 * 8192**3})
                        if rec.get("step_time_s_in_loop"):
                            rec["TFLOPs_in_loop"] = 2 * 8192**3 / rec["step_time_s_in_loop"] / 1e12
                        del a, b, c
                    else:
                        kind, x, y = what
                        fn, info = build_step(model, pool, [what], False, chunk_mode, dev)
                        if kind == "decode" and bench.use_graphs:
                            g, gout = bench.capture(fn)
                            step = g.replay
                        else:
                            step = fn
                        tokens = x if kind == "decode" else y
                        rec = power_loop(nv, dev, name, step, 4.0, tokens,
                                         extra={"step": {"prefill_tokens": y if kind == "chunk" else 0,
                                                         "decode_seqs": x if kind == "decode" else 0,
                                                         "context": y if kind == "decode" else 0}})
                        del step, fn
                        if kind == "decode" and bench.use_graphs:
                            del g, gout
                    out["power"].append(rec)
                    p = rec.get("power_W") or {}
                    log(f"  {name}: {p.get('mean', float('nan')):.1f} W mean, step "
                        f"{rec.get('step_time_s_in_loop', 0) * 1e3:.3f} ms, J/step {rec.get('joules_per_step')}, "
                        f"SM {(rec.get('sm_clock_MHz') or {}).get('mean')} MHz")
                except Exception as e:
                    out["errors"].append({"section": "power", "point": name, "error": err_str(e),
                                          "trace": traceback.format_exc()[-1500:]})
                    log(f"  power {name}: ERROR {err_str(e)}")
            write()
        else:
            out["skipped"].append({"section": "power", "point": "all",
                                   "reason": "no CUDA / --no-power / NVML unavailable: "
                                             + str(nv.err if nv is not None else "")})

    # ---- attention microbenchmarks (own backend choices, outside the flash-only context)
    with torch.inference_mode():
        s0, bud = section_open("attention")
        log("attention microbenchmarks")
        H, KVH, D = cfg.heads, cfg.kv_heads, cfg.head_dim
        backends = ["FLASH_ATTENTION", "EFFICIENT_ATTENTION", "MATH"]
        for B in grid["attn_decode_B"]:
            for L in grid["attn_decode_L"]:
                if not can_run("attention", s0, bud, {"B": B, "L": L}):
                    continue
                try:
                    n = B * KVH * L * D
                    if 2 * n > pool.buf.numel():
                        out["skipped"].append({"section": "decode_attention", "point": {"B": B, "L": L},
                                               "reason": "does not fit"})
                        continue
                    K = pool.buf[:n].view(B, KVH, L, D)
                    V = pool.buf[n:2 * n].view(B, KVH, L, D)
                    q = torch.randn(B, H, 1, D, device=dev, dtype=dtype)
                    q4 = q.view(B, KVH, H // KVH, D)
                    kvb = 2 * n * 2
                    rec = {"B": B, "L": L, "kv_bytes": kvb}
                    for be in backends:
                        if be == "MATH" and kvb > 2**30:
                            continue
                        try:
                            with sdpa_only(be):
                                r = bench.time_fn(lambda: F.scaled_dot_product_attention(q4, K, V),
                                                  warm=3, fixed_reps=20)
                            rec[be] = r["time_s"]
                            rec[be + "_GBps"] = kvb / r["time_s"] / 1e9
                        except Exception as e:
                            rec[be + "_error"] = err_str(e)[:200]
                    try:
                        with sdpa_only("FLASH_ATTENTION"):
                            r = bench.time_fn(lambda: F.scaled_dot_product_attention(q, K, V, enable_gqa=True),
                                              warm=3, fixed_reps=20)
                        rec["FLASH_ATTENTION_enable_gqa"] = r["time_s"]
                        rec["FLASH_ATTENTION_enable_gqa_GBps"] = kvb / r["time_s"] / 1e9
                    except Exception as e:
                        rec["FLASH_ATTENTION_enable_gqa_error"] = err_str(e)[:200]
                    out["decode_attention"].append(rec)
                    log(f"  attn decode B={B:3d} L={L:5d}: flash {rec.get('FLASH_ATTENTION', float('nan')) * 1e6:8.1f} us"
                        f" ({rec.get('FLASH_ATTENTION_GBps', float('nan')):6.0f} GB/s)")
                except Exception as e:
                    out["errors"].append({"section": "decode_attention", "point": {"B": B, "L": L},
                                          "error": err_str(e)})
        for S in grid["attn_prefill_S"]:
            if not can_run("attention", s0, bud, {"S": S}):
                continue
            try:
                n = KVH * S * D
                K = pool.buf[:n].view(1, KVH, S, D)
                V = pool.buf[n:2 * n].view(1, KVH, S, D)
                q = torch.randn(1, H, S, D, device=dev, dtype=dtype)
                rec = {"S": S, "causal": True}
                with sdpa_only("FLASH_ATTENTION"):
                    r = bench.time_fn(lambda: F.scaled_dot_product_attention(q, K, V, is_causal=True,
                                                                             enable_gqa=True),
                                      warm=3, fixed_reps=20)
                fl = 2 * 2 * S * S * D * H / 2
                rec.update({"FLASH_ATTENTION": r["time_s"], "flops": fl,
                            "FLASH_ATTENTION_TFLOPs": fl / r["time_s"] / 1e12})
                out["prefill_attention"].append(rec)
                log(f"  attn prefill S={S}: {r['time_s'] * 1e6:.1f} us ({rec['FLASH_ATTENTION_TFLOPs']:.0f} TFLOP/s)")
            except Exception as e:
                out["errors"].append({"section": "prefill_attention", "point": {"S": S}, "error": err_str(e)})
    write()

    # ---- compact summary
    def get(section, mode, **kw):
        for r in out[section]:
            if r.get("mode") == mode and all(r.get(k) == v for k, v in kw.items()) and not r.get("layout_check"):
                return r.get("time_s")
        return None

    def ms(x):
        return f"{x * 1e3:9.3f}" if x else "      n/a"

    print("\n=== summary (median ms) ===")
    print("decode     B      L     eager     graph  layout")
    for r in out["decode"]:
        if r["mode"] == "eager" and not r.get("layout_check"):
            print(f"       {r['B']:4d} {r['L']:6d} {ms(r['time_s'])} {ms(get('decode', 'cudagraph', B=r['B'], L=r['L']))}"
                  f"  {r['kv_layout']}")
    for r in out["decode"]:
        if r.get("layout_check"):
            print(f"  layout check B={r['B']} L={r['L']}: shared {ms(r.get('time_s'))} vs per_layer "
                  f"{ms(get('decode', 'cudagraph', B=r['B'], L=r['L']))}")
    print("prefill    S     eager     graph")
    for r in out["prefill"]:
        if r["mode"] == "eager":
            print(f"       {r['S']:6d} {ms(r['time_s'])} {ms(get('prefill', 'cudagraph', S=r['S']))}")
    print("mixed      C      P    B      L     eager     graph")
    for r in out["mixed"]:
        if r["mode"] == "eager":
            print(f"       {r['C']:6d} {r['P']:6d} {r['B']:4d} {r['L']:6d} {ms(r['time_s'])} "
                  f"{ms(get('mixed', 'cudagraph', C=r['C'], P=r['P'], B=r['B'], L=r['L']))}")
    for r in out["power"]:
        p = (r.get("power_W") or {}).get("mean")
        print(f"power {r['name']:30s} {p if p is None else round(p, 1)} W  step "
              f"{ms(r.get('step_time_s_in_loop'))} ms  J/step {r.get('joules_per_step')}  "
              f"J/token {r.get('joules_per_token')}")
    print(f"skipped: {len(out['skipped'])}  errors: {len(out['errors'])}")
    for e in out["errors"]:
        print("  ERROR", e["section"], e["point"], e["error"])
    log(f"done; wrote {args.out}")


if __name__ == "__main__":
    main()
