import contextlib, enum
class SDPBackend(enum.Enum):
    FLASH_ATTENTION = 1; EFFICIENT_ATTENTION = 2; MATH = 3
ALLOWED = {SDPBackend.MATH, SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION}
@contextlib.contextmanager
def sdpa_kernel(backends):
    global ALLOWED
    old = ALLOWED; ALLOWED = set(backends)
    try: yield
    finally: ALLOWED = old
