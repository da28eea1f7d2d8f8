"""TEST ONLY: a numpy stand-in for the small part of torch that h200_llama3_8b_steps.py uses,
so the script's --smoke run and check_steps_cpu.py work on a machine without torch.
It is float32 numpy, has no flash/efficient attention (only MATH) and no CUDA; it says
nothing about timing. Put it on PYTHONPATH only for these checks:
    PYTHONPATH=tools/measure/cpu_stub python3 tools/measure/h200_llama3_8b_steps.py --smoke --out /tmp/s.json
    PYTHONPATH=tools/measure/cpu_stub python3 tools/measure/check_steps_cpu.py
"""
import contextlib
import numpy as np
from types import SimpleNamespace

__version__ = "0.0-fake"
version = SimpleNamespace(cuda=None)
bfloat16, float32, float64, long, bool = "bf16", "f32", "f64", "i64", "bool"
_NP = {"bf16": np.float32, "f32": np.float32, "f64": np.float64, "i64": np.int64, "bool": np.bool_, None: np.float32}
_rng = np.random.default_rng(0)

class device:
    def __init__(self, t): self.type = t

def _a(x): return x.a if isinstance(x, Tensor) else x

class Tensor:
    def __init__(self, a): self.a = a
    shape = property(lambda s: s.a.shape)
    device = property(lambda s: device("cpu"))
    def numel(self): return self.a.size
    def normal_(self, m, s): self.a[...] = _rng.normal(m, s, self.a.shape); return self
    def to(self, *args, device=None, dtype=None):
        for x in args:
            if isinstance(x, str) and x in _NP: dtype = x
        return Tensor(self.a.astype(_NP[dtype])) if dtype else self
    def float(self): return Tensor(self.a.astype(np.float32))
    def view(self, *shape):
        r = self.a.reshape(shape)
        if not np.shares_memory(r, self.a): raise RuntimeError("view would copy")
        return Tensor(r)
    def reshape(self, *shape): return Tensor(self.a.reshape(shape))
    def split(self, sizes, dim=-1):
        idx = np.cumsum(sizes)[:-1]; return tuple(Tensor(x) for x in np.split(self.a, idx, axis=dim))
    def chunk(self, n, dim=-1): return tuple(Tensor(x) for x in np.split(self.a, n, axis=dim))
    def transpose(self, i, j): return Tensor(np.swapaxes(self.a, i, j))
    def unsqueeze(self, d): return Tensor(np.expand_dims(self.a, d))
    def repeat_interleave(self, r, dim): return Tensor(np.repeat(self.a, r, axis=dim))
    def __getitem__(self, i): return Tensor(self.a[_a(i) if not isinstance(i, tuple) else tuple(_a(x) for x in i)])
    def __setitem__(self, i, v):
        tgt = self.a[i]
        assert tgt.shape == np.broadcast_shapes(tgt.shape, _a(v).shape), (tgt.shape, _a(v).shape)
        self.a[i] = _a(v)
    def __neg__(self): return Tensor(-self.a)
    def __invert__(self): return Tensor(~self.a)
    def __mul__(self, o): return Tensor(self.a * _a(o))
    __rmul__ = __mul__
    def __add__(self, o): return Tensor(self.a + _a(o))
    __radd__ = __add__
    def __sub__(self, o): return Tensor(self.a - _a(o))
    def __truediv__(self, o): return Tensor(self.a / _a(o))
    def __rtruediv__(self, o): return Tensor(_a(o) / self.a)
    def __rpow__(self, o): return Tensor(_a(o) ** self.a)
    def pow(self, p): return Tensor(self.a ** p)
    def __matmul__(self, o): return Tensor(self.a @ _a(o))
    def cos(self): return Tensor(np.cos(self.a))
    def sin(self): return Tensor(np.sin(self.a))
    def abs(self): return Tensor(np.abs(self.a))
    def max(self): return Tensor(self.a.max())
    def all(self): return Tensor(self.a.all())
    def mean(self, d, keepdim=False): return Tensor(self.a.mean(axis=d, keepdims=keepdim))
    def item(self): return self.a.item()
    def tril(self, diagonal=0):
        r, c = self.a.shape[-2:]
        return Tensor(self.a & (np.arange(c)[None, :] <= np.arange(r)[:, None] + diagonal))
    def masked_fill(self, m, v): return Tensor(np.where(_a(m), v, self.a))

def _dt(dtype): return _NP[dtype]
def empty(*shape, device=None, dtype=None): return Tensor(np.zeros(shape, _dt(dtype)))
def ones(*shape, device=None, dtype=None): return Tensor(np.ones(shape, _dt(dtype)))
def randn(*shape, device=None, dtype=None): return Tensor(_rng.standard_normal(shape).astype(_dt(dtype)))
def randint(lo, hi, shape, dtype=None): return Tensor(_rng.integers(lo, hi, shape))
def full(shape, v, dtype=None): return Tensor(np.full(shape, v, _dt(dtype)))
def arange(*a, dtype=None): return Tensor(np.arange(*a).astype(_dt(dtype) if dtype else None))
def outer(a, b): return Tensor(np.outer(a.a, b.a))
def cat(ts, dim=0): return Tensor(np.concatenate([t.a for t in ts], axis=dim))
def matmul(a, b, out=None):
    r = a.a @ b.a
    if out is not None: out.a[...] = r; return out
    return Tensor(r)
def rsqrt(x): return Tensor(1 / np.sqrt(x.a))
def softmax(x, d):
    e = np.exp(x.a - x.a.max(axis=d, keepdims=True)); return Tensor(e / e.sum(axis=d, keepdims=True))
def isfinite(x): return Tensor(np.isfinite(x.a))
def manual_seed(s): pass
def set_grad_enabled(b): pass
inference_mode = contextlib.nullcontext
class _Cuda:
    OutOfMemoryError = MemoryError
    def is_available(self): return False
cuda = _Cuda()
def _noflash(*a, **k): raise RuntimeError("fake: no flash op on CPU")
ops = SimpleNamespace(aten=SimpleNamespace(_scaled_dot_product_flash_attention=_noflash))
from . import nn  # noqa
