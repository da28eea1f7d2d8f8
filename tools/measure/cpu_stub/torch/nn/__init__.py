from . import functional, attention  # noqa
