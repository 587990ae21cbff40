import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    # other suites run concurrently on a 2-core machine
    torch.set_num_threads(1)
