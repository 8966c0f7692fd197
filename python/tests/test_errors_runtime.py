"""Error paths, the GIL released during computations, and KeyboardInterrupt."""
import _thread
import threading
import time

import numpy as np
import pytest

import widenet


def test_wrong_shapes_and_bad_values_raise_value_error_naming_the_argument(rng):
    x = rng.standard_normal((10, 3))
    with pytest.raises(ValueError, match=r"invalid x: expected a 2-D array"):
        widenet.relu_ntk(np.ones(5))
    bad = x.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"invalid x: entry \(1, 2\) is NaN"):
        widenet.relu_ntk(bad)
    bad[1, 2] = np.inf
    with pytest.raises(ValueError, match=r"invalid x2: entry \(1, 2\) is inf"):
        widenet.relu_ntk(x, bad)
    with pytest.raises(ValueError, match="dimension"):
        widenet.relu_ntk(x, rng.standard_normal((4, 5)))
    with pytest.raises(ValueError, match="invalid x: expected real float32 or float64"):
        widenet.relu_ntk(x.astype(complex))
    with pytest.raises(ValueError, match="invalid precision"):
        widenet.relu_ntk(x, precision="f16")
    with pytest.raises(ValueError, match="labels for 10 inputs"):
        widenet.analyze(x, np.ones(9), eta=0.1, steps=3)
    with pytest.raises(ValueError, match="invalid y: expected a 1-D array"):
        widenet.analyze(x, np.ones((10, 1)), eta=0.1, steps=3)
    with pytest.raises(ValueError, match="invalid eta"):
        widenet.analyze(x, np.ones(10), eta=-1.0, steps=3)
    with pytest.raises(ValueError, match="invalid width"):
        widenet.train_two_layer(x, np.ones(10), width=-1, eta=0.1, steps=2)
    with pytest.raises(ValueError, match="invalid y: 9 labels"):
        widenet.train_two_layer(x, np.ones(9), width=4, eta=0.1, steps=2)
    with pytest.raises(ValueError, match="x_test/y_test"):
        widenet.train_two_layer(x, np.ones(10), x_test=x, width=4, eta=0.1, steps=2)
    with pytest.raises(ValueError, match="invalid depth"):
        widenet.fc_ntk(x, depth=0)
    with pytest.raises(ValueError, match="bandwidth"):
        widenet.gaussian(x, bandwidth=-1.0)
    with pytest.raises(ValueError, match="invalid x: expected a 3-D array"):
        widenet.rnn_ntk(x, preset="wang")
    with pytest.raises(ValueError, match="preset"):
        widenet.rnn_ntk(np.ones((2, 3, 2)), preset="lstm")
    with pytest.raises(ValueError, match="measure"):
        widenet.complexity("exp", measure="nope")
    with pytest.raises(ValueError, match="invalid seed"):
        widenet.unit_sphere(3, 2, seed=-1)
    with pytest.raises(TypeError):
        widenet.relu_ntk(x, bandwidth=3)           # an unknown keyword is a TypeError
    with pytest.raises(ValueError, match="invalid k_train"):
        widenet.krr(np.ones(3), np.ones(3), lam=0.1)


def test_reproduce_rejects_unknown_overrides_and_names(tmp_path):
    with pytest.raises(ValueError, match=r"no setting 'widht'; its settings: .*n_train.*width"):
        widenet.reproduce("arora-fig1", out=tmp_path, widht=10)
    with pytest.raises(ValueError, match="invalid name: 'arora-fig9'"):
        widenet.reproduce("arora-fig9", out=tmp_path)
    with pytest.raises(ValueError, match="invalid width: 0 is outside"):
        widenet.reproduce("arora-fig1", out=tmp_path, width=0)
    # an old flag name the experiment has no setting for is refused, not ignored
    with pytest.raises(ValueError, match="arora-sec6.*no setting 'width'"):
        widenet.reproduce("arora-sec6", out=tmp_path, width=5, eta=1e9)
    with pytest.raises(ValueError, match="invalid sizes: needs at least two sample sizes"):
        widenet.reproduce("arora-sec6", out=tmp_path, sizes=[50])
    assert not (tmp_path / "arora-sec6").exists()
    with pytest.raises(ValueError, match="invalid scale"):
        widenet.reproduce("arora-fig1", scale="huge", out=tmp_path)


def test_numerical_failures_raise_widenet_error(rng):
    x = rng.standard_normal((6, 3))
    x[3] = x[1]                                   # duplicate input: H^inf is singular
    with pytest.raises(widenet.WidenetError, match="not positive definite"):
        widenet.analyze(x, np.ones(6), eta=0.1, steps=2)
    assert issubclass(widenet.WidenetError, RuntimeError)
    x = rng.standard_normal((8, 3))
    with pytest.raises(widenet.WidenetError, match="diverged"):
        widenet.train_two_layer(x, np.ones(8), width=16, kappa=1.0, eta=1e3, steps=50,
                                precision="f64")
    k = -np.eye(4)
    with pytest.raises(widenet.WidenetError, match="not positive definite"):
        widenet.krr(k, np.ones(4), lam=0.0)


def test_files_and_memory_errors(tmp_path):
    with pytest.raises(ValueError, match="no MNIST train images file found"):
        widenet.load_mnist(tmp_path)
    with pytest.raises(ValueError, match="invalid classes"):
        widenet.load_mnist(tmp_path, classes=(3, 3))
    with pytest.raises(MemoryError, match="memory budget"):
        widenet.unit_sphere(10**12, 1000)
    # a kernel larger than the memory budget is refused before anything is allocated
    big = np.ones((300_000, 1))
    for f in (widenet.relu_ntk, widenet.arcsin, lambda z: widenet.gaussian(z, bandwidth=1.0),
              lambda z: widenet.fc_ntk(z, depth=2)):
        with pytest.raises(MemoryError, match="kernel needs"):
            f(big)


def _counter():
    state = {"n": 0, "stop": False}

    def tick():
        while not state["stop"]:
            state["n"] += 1
            time.sleep(0.001)

    t = threading.Thread(target=tick, daemon=True)
    return state, t


def test_the_gil_is_released_during_a_long_call(rng):
    x = rng.standard_normal((200, 30))
    y = np.sign(rng.standard_normal(200))
    steps = 50
    while True:
        state, t = _counter()
        t.start()
        time.sleep(0.02)
        start_n = state["n"]
        t0 = time.perf_counter()
        widenet.train_two_layer(x, y, width=2000, kappa=0.01, eta=1e-4, steps=steps)
        elapsed = time.perf_counter() - t0
        ticks = state["n"] - start_n
        state["stop"] = True
        t.join()
        if elapsed >= 0.5 or steps >= 50 * 2**8:
            break
        steps *= 4
    # a call holding the GIL throughout would let the ticker run at most once (the
    # 5 ms switch interval only preempts Python code); released, it ticks every ~1 ms
    # (fewer on a loaded machine, but far more than a handful in half a second)
    assert elapsed >= 0.5
    assert ticks >= 20, (ticks, elapsed)


def test_keyboard_interrupt_stops_a_long_call_and_the_next_call_works(rng):
    x = rng.standard_normal((200, 30))
    y = np.sign(rng.standard_normal(200))
    timer = threading.Timer(0.5, _thread.interrupt_main)
    t0 = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        # about 10^7 iterations: hours, unless interrupted
        widenet.train_two_layer(x, y, width=2000, eta=1e-6, steps=10**7)
    stopped = time.perf_counter() - t0
    timer.join()
    assert stopped < 5.0, stopped
    # the interrupt flag was cleared: the next call runs to completion
    r = widenet.train_two_layer(x, y, width=50, eta=1e-3, steps=3)
    assert r.iterations == 3
    # and a kernel call can be interrupted too
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        for _ in range(10**6):
            widenet.rnn_ntk(rng.standard_normal((300, 6, 3)), preset="wang")
    timer.join()
    assert widenet.relu_ntk(np.eye(3)).shape == (3, 3)
