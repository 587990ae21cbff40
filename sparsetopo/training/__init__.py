"""Built-in training: models, sparsification strategies, tasks and the training loop (torch)."""

from sparsetopo.errors import MissingExtraError

try:
    import sklearn  # noqa: F401  (the digits tasks' data)
    import torch  # noqa: F401
except ImportError as exc:  # the optional [train] extra
    raise MissingExtraError(exc.name or "torch", "train", "training") from exc
