"""Consistency check of the step logic in h200_llama3_8b_steps.py on a tiny model (CPU).

The last-token logits of one 33-token prefill must equal those of: a 32-token prefill then
one decode (query heads passed with enable_gqa, and folded); a 16-token prefill then a
17-token chunk with 16 cached tokens; and both rows of a mixed step (that chunk + one
decode). Also checks that per-layer caches do not alias and shared ones do.
Runs with real torch (CPU) or with the numpy stand-in:
    PYTHONPATH=tools/measure/cpu_stub python3 tools/measure/check_steps_cpu.py
"""
import os, sys
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch
import h200_llama3_8b_steps as M


def npy(t):
    return t.a if hasattr(t, "a") else t.float().numpy()


torch.set_grad_enabled(False)
cfg = M.Cfg(True); dev = torch.device("cpu")
model = M.Llama(cfg, dev, torch.float32)  # fp32 so the 1e-3 bound holds with real torch too
KVH, D = cfg.kv_heads, cfg.head_dim
def caches(n, ln):
    return [torch.randn(n, KVH, ln, D) for _ in range(cfg.layers)], [torch.randn(n, KVH, ln, D) for _ in range(cfg.layers)]
toks = torch.randint(0, cfg.vocab, (33,))
ar = lambda a, b: torch.arange(a, b, dtype=torch.long)
def sub(lst, n): return [t[:, :, :n] for t in lst]
# 1. full prefill of 33
k, v = caches(1, 33)
full = npy(model.forward(toks, ar(0, 33), [M.ChunkGroup((0, 33), 0, k, v, "expand_mask")], 32))
# 2. prefill 32, then decode token 33
k, v = caches(1, 33)
model.forward(toks[0:32], ar(0, 32), [M.ChunkGroup((0, 32), 0, sub(k, 32), sub(v, 32), "expand_mask")], 31)
dec = npy(model.forward(toks[32:33], torch.full((1,), 32, dtype=torch.long), [M.DecodeGroup((0, 1), 32, k, v)], 0))
# 2b. fold mode decode
dec_f = npy(model.forward(toks[32:33], torch.full((1,), 32, dtype=torch.long), [M.DecodeGroup((0, 1), 32, k, v, "fold")], 0))
# 3. chunked prefill 16 + 17
k, v = caches(1, 33)
model.forward(toks[0:16], ar(0, 16), [M.ChunkGroup((0, 16), 0, sub(k, 16), sub(v, 16), "expand_mask")], 15)
ch = npy(model.forward(toks[16:33], ar(16, 33), [M.ChunkGroup((0, 17), 16, k, v, "expand_mask")], 16))
# 4. mixed: chunk (P=16,C=17) of seq A + decode of seq 'full' -> decode rows match dec
k, v = caches(1, 33)
model.forward(toks[0:16], ar(0, 16), [M.ChunkGroup((0, 16), 0, sub(k, 16), sub(v, 16), "expand_mask")], 15)
kd, vd = caches(1, 33)
model.forward(toks[0:32], ar(0, 32), [M.ChunkGroup((0, 32), 0, sub(kd, 32), sub(vd, 32), "expand_mask")], 31)
mt = torch.cat([toks[16:33], toks[32:33]])
mp = torch.cat([ar(16, 33), torch.full((1,), 32, dtype=torch.long)])
mix = npy(model.forward(mt, mp, [M.ChunkGroup((0, 17), 16, k, v, "expand_mask"), M.DecodeGroup((17, 18), 32, kd, vd)], 16))
print("logits shape", full.shape, mix.shape)
worst = 0.0
for name, x in [("decode", dec), ("decode fold", dec_f), ("chunked", ch), ("mixed chunk row", mix[0:1]), ("mixed decode row", mix[1:2])]:
    d = float(np.abs(np.asarray(x, dtype=np.float64) - np.asarray(full, dtype=np.float64)).max())
    worst = max(worst, d)
    print(f"{name:18s} max|diff| vs full prefill = {d:.2e}  (scale {np.abs(full).max():.2f})")
# carve aliasing: per-layer distinct vs shared
pool = M.KVPool(cfg, dev, torch.float32, 1 << 20)
a = pool.carve([(2, 9)], False)[0][0]; b = pool.carve([(2, 9)], True)[0][0]
alias_ok = (a[0].data_ptr() != a[1].data_ptr() if hasattr(a[0], "data_ptr") else not np.shares_memory(a[0].a, a[1].a)) \
    and b[0] is b[1] and len(b) == cfg.layers
print("per-layer caches distinct and shared caches shared:", alias_ok)
ok = worst < 1e-3 and alias_ok
print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
sys.exit(0 if ok else 1)
