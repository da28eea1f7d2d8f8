import math
import numpy as np
from .. import Tensor
from . import attention as A
def embedding(idx, w): return Tensor(w.a[idx.a])
def silu(x): return Tensor(x.a / (1 + np.exp(-x.a)))
def rms_norm(x, shape, w, eps):
    return Tensor(x.a / np.sqrt((x.a ** 2).mean(-1, keepdims=True) + eps) * w.a)
def scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
    if A.SDPBackend.MATH not in A.ALLOWED:
        raise RuntimeError("fake: only MATH is implemented")
    q, k, v = q.a, k.a, v.a
    assert q.ndim == 4 and k.ndim == 4 and k.shape == v.shape and q.shape[0] == k.shape[0], (q.shape, k.shape)
    assert q.shape[-1] == k.shape[-1]
    if q.shape[1] != k.shape[1]:
        assert enable_gqa and q.shape[1] % k.shape[1] == 0, (q.shape, k.shape, enable_gqa)
        r = q.shape[1] // k.shape[1]; k = np.repeat(k, r, 1); v = np.repeat(v, r, 1)
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    lq, lk = s.shape[-2:]
    if is_causal:
        m = np.arange(lk)[None, :] <= np.arange(lq)[:, None]  # torch: top-left
        s = np.where(m, s, -np.inf)
    if attn_mask is not None:
        s = np.where(attn_mask.a, s, -np.inf)
    e = np.exp(s - s.max(-1, keepdims=True)); p = e / e.sum(-1, keepdims=True)
    return Tensor(p @ v)
