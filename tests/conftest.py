import os

import numpy as np
import pytest
import torch

# Respect OMP_NUM_THREADS when set (oversubscribed machines), else use at most 2 threads.
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", min(2, os.cpu_count() or 1))))


@pytest.fixture(scope="session")
def digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.data, d.target


@pytest.fixture(scope="session")
def small_digits(digits):
    X, y = digits
    rng = np.random.RandomState(0)
    idx = rng.choice(len(X), 300, replace=False)
    return X[idx], y[idx]
