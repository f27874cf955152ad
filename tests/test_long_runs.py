"""Long runs: timed chunks that change no count, progress, Ctrl-C with a partial estimate, bounds.

The chunked loop (:func:`closedform.numeric.drivers.run_chunks`) continues each
stream's generator state and accumulator row, so a run cut in chunks equals
the run in one piece stream by stream, and equals the totals recorded in
``tests/golden/unchunked_totals.json`` by the one-piece driver before the
chunked loop existed (commit c555ff5: 3001 trials, seed 7, 37 streams, each
simulated result at its first case; float sums as ``float.hex``).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import select
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from closedform import ParameterError
from closedform.estimate import MAX_STREAMS, MAX_TRIALS, Interrupted, simulate_result
from closedform.numeric import drivers
from closedform.numeric.target import SIMULATOR
from closedform.registry import RESULTS, by_name

SIMULATED = [r for r in RESULTS if r.simulation is not None]
GOLDEN = json.loads((pathlib.Path(__file__).parent / "golden" / "unchunked_totals.json").read_text())
GOLDEN_TRIALS, GOLDEN_SEED, GOLDEN_STREAMS = 3001, 7, 37
SECTOR = by_name("sector")
FAST = {"n": 4, "theta": "pi"}


def _packed(result, case):
    return result.simulation.pack(**result.validate(**case))


def _chunked(kernel, packed, trials, seed, streams, sizes):
    """The run cut into segments of ``sizes`` trials per stream (the last one finishing it)."""
    state = kernel.start(packed, trials, seed, streams)
    for m in sizes:
        if state.plan.finished:
            break
        state.advance(m)
    if not state.plan.finished:
        state.advance(state.plan.base)
    return state.result(0.0)


def _golden(values):
    return [float.fromhex(v) if isinstance(v, str) else v for v in values]


def test_golden_covers_every_simulated_result():
    assert sorted(GOLDEN) == sorted(r.name for r in SIMULATED)


@pytest.mark.skipif(SIMULATOR, reason="plain-Python drivers under the CUDA simulator: the CPU job covers this")
@pytest.mark.parametrize("result", SIMULATED, ids=lambda r: r.name)
def test_chunked_equals_unchunked_and_the_recorded_totals(result):
    kernel, packed = result.simulation.kernel, _packed(result, result.cases[0])
    whole = kernel.run(packed, GOLDEN_TRIALS, GOLDEN_SEED, GOLDEN_STREAMS)
    # 81 trials per stream: chunks of 1, 5, 2, 30, then the rest (with the remainder's extra trial).
    cut = _chunked(kernel, packed, GOLDEN_TRIALS, GOLDEN_SEED, GOLDEN_STREAMS, [1, 5, 2, 30])
    assert cut.trials == whole.trials == GOLDEN_TRIALS
    assert cut.out.dtype == whole.out.dtype
    assert np.array_equal(cut.out, whole.out), "stream by stream"
    # Exact, floats included: the same additions in the same order.
    assert whole.totals.tolist() == _golden(GOLDEN[result.name])
    assert cut.totals.tolist() == _golden(GOLDEN[result.name])


@pytest.mark.skipif(SIMULATOR, reason="plain-Python drivers under the CUDA simulator: the CPU job covers this")
@pytest.mark.parametrize(
    "name, case",
    [("sector", FAST), ("largest_spacing_mean", {"n": 5}), ("argmax", {"noise": "normal", "mu": "0.3,0,-0.5"})],
)
@given(
    seed=st.integers(0, 2**64 - 1),
    streams=st.integers(1, 40),
    trials=st.integers(1, 4000),
    sizes=st.lists(st.integers(1, 50), max_size=8),
)
def test_any_chunking_gives_the_same_streams(name, case, seed, streams, trials, sizes):
    # One body of each form: category (counts), accumulate (float sums), category_ts.
    result = by_name(name)
    kernel, packed = result.simulation.kernel, _packed(result, case)
    whole = kernel.run(packed, trials, seed, streams)
    cut = _chunked(kernel, packed, trials, seed, streams, sizes)
    assert cut.trials == whole.trials == trials
    assert np.array_equal(cut.out, whole.out)


def test_next_chunk_aims_at_a_second_and_grows_at_most_sixteenfold():
    assert drivers.next_chunk(10, 0.25) == 40
    assert drivers.next_chunk(10, 1e-9) == 10 * drivers.CHUNK_GROWTH
    assert drivers.next_chunk(1, 50.0) == 1


def test_run_chunks_stops_between_chunks():
    plan = drivers.StreamPlan(n_streams=3, base=10**6, rem=2)
    seen = []

    def advance(per_stream):
        count, rem = plan.segment(per_stream)
        plan.record(count, rem)
        seen.append(count)

    drivers.run_chunks(plan, advance, stop=lambda: len(seen) == 3)
    assert len(seen) == 3 and not plan.finished
    assert plan.trials_done == 3 * sum(seen)  # the remainder's extra trials come with the last chunk only


def _sigint_soon(delay):
    # signal.raise_signal from another thread: the handler still runs in the main thread.
    timer = threading.Timer(delay, signal.raise_signal, (signal.SIGINT,))
    timer.start()
    return timer


@pytest.mark.skipif(SIMULATOR, reason="a long run needs the compiled driver")
def test_ctrl_c_in_python_raises_interrupted_with_the_partial_estimate():
    simulate_result(SECTOR, 1000, **FAST)  # compiled before the clock starts
    timer = _sigint_soon(1.5)
    t0 = time.monotonic()
    with pytest.raises(Interrupted) as info:
        simulate_result(SECTOR, 10**11, seed=4, progress=False, **FAST)
    waited = time.monotonic() - t0 - 1.5
    timer.join()
    assert waited < 1.5, f"stopped {waited:.2f} s after Ctrl-C"
    est = info.value.estimate
    assert 0 < est.trials < 10**11 and est.trials % est.streams == 0
    assert np.isfinite(est.error) and est.error > 0
    assert "interrupted after" in str(info.value) and "partial estimate" in str(info.value)
    # The partial counts are those of a complete run of that many trials on the same streams.
    again = SECTOR.simulation.kernel.run(_packed(SECTOR, FAST), est.trials, 4, est.streams)
    assert np.array_equal(again.totals, est.totals)
    # The handler is restored: SIGINT raises as usual again.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_interrupted_before_any_chunk_has_no_estimate():
    from closedform.estimate import Estimate

    est = Estimate("sector", {}, "proportion", np.zeros(1, np.int64), 0, 0.0, "cpu", 0, 4)
    assert np.isnan(est.value)
    assert "before any trial" in str(Interrupted(est, 100))


@pytest.mark.skipif(SIMULATOR, reason="a long run needs the compiled driver")
def test_ctrl_c_on_the_cli_stops_within_a_second_with_one_line():
    # stderr on a pseudo-terminal, so that the progress bar shows: its first
    # frame says the run is under way (imports and compilation are over).
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    # A new pty is 0 columns wide, which tqdm fills with an empty bar: give it 100.
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    cmd = [sys.executable, "-m", "closedform", "simulate", "sector", "--n", "4", "--theta", "pi", "--trials", "1e11"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL)
    os.close(follower)
    seen = b""
    try:
        deadline = time.monotonic() + 240
        while b"trial" not in seen:
            assert time.monotonic() < deadline, f"no progress bar within 240 s: {seen!r}"
            if select.select([leader], [], [], 0.5)[0]:
                seen += os.read(leader, 4096)
        time.sleep(2)
        proc.send_signal(signal.SIGINT)
        t0 = time.monotonic()
        rest, said = b"", None  # what came after the signal, and when the message came
        while proc.poll() is None or select.select([leader], [], [], 0.2)[0]:
            assert time.monotonic() - t0 < 30, "still running 30 s after SIGINT"
            if not select.select([leader], [], [], 0.01)[0]:
                continue
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the child closed its end
                break
            rest += chunk
            if said is None and b"interrupted" in rest:
                said = time.monotonic() - t0
        ended = time.monotonic() - t0
        out = proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        os.close(leader)
    assert proc.wait() == 130
    # The run stops at the end of the chunk under way (chunks aim at a second) ...
    assert said is not None and said < 2.0, f"message {said} s after SIGINT"
    # ... and the interpreter's own teardown follows (measured 0.5-2.3 s on the shared 2-core machine).
    assert ended < 6.0, f"exited {ended:.2f} s after SIGINT"
    text = rest.decode(errors="replace")
    frames = re.split(r"[\r\n]+", re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text))
    # What is left once the bar's last frames (redrawn on the same line, then erased) are set aside.
    lines = [ln for ln in frames if ln.strip() and "trial/s" not in ln]
    assert "Traceback" not in text
    assert len(lines) == 1, lines
    assert re.match(r"closedform: interrupted after [\d,]+ of 100,000,000,000 trials: partial estimate 0\.5", lines[0])
    assert out == b""


@pytest.mark.skipif(SIMULATOR, reason="the bar is timed on a real run")
def test_progress_bar_counts_trials(capsys, monkeypatch):
    import closedform.estimate as estimate

    monkeypatch.setattr(estimate, "PROGRESS_DELAY_S", 0)
    simulate_result(SECTOR, 200_000, progress=True, **FAST)
    err = capsys.readouterr().err
    assert "/200k" in err and "trial/s" in err  # the total in trials, and the rate
    simulate_result(SECTOR, 200_000, progress=False, **FAST)
    assert capsys.readouterr().err == ""


BAD_RUNS = [
    ({"trials": 10**18}, "trials must be a positive integer, at most 1e15"),
    ({"trials": MAX_TRIALS + 1}, "two weeks"),
    ({"trials": float("inf")}, "trials must be"),
    ({"trials": float("nan")}, "trials must be"),
    ({"trials": 2**63}, "trials must be"),
    ({"trials": True}, "trials must be"),
    ({"trials": 2.5}, "trials must be"),
    ({"trials": "1000"}, "trials must be"),
    ({"trials": 0}, "trials must be"),
    ({"seed": True}, "seed must be"),
    ({"seed": 1.0}, "seed must be"),
    ({"seed": -1}, "seed must be"),
    ({"seed": 2**64}, "seed must be"),
    ({"streams": True}, "streams must be"),
    ({"streams": 1.5}, "streams must be"),
    ({"streams": 4.0}, "streams must be"),
    ({"streams": "4"}, "streams must be"),
    ({"streams": 0}, "streams must be"),
    ({"streams": 10**12}, "streams must be a positive integer, at most 2\\*\\*26.*memory"),
    ({"streams": MAX_STREAMS + 1}, "streams must be"),
]


@pytest.mark.parametrize("bad, message", BAD_RUNS, ids=lambda v: repr(v)[:40])
def test_run_arguments_out_of_domain_are_parameter_errors(bad, message):
    args = {"trials": 1000, "seed": 0, "streams": None} | bad
    t0 = time.monotonic()
    with pytest.raises(ParameterError, match=message):
        simulate_result(SECTOR, args["trials"], seed=args["seed"], streams=args["streams"], **FAST)
    assert time.monotonic() - t0 < 5  # refused before any work


def test_largest_run_arguments_are_accepted():
    # The bounds themselves are inside the domain (checked without running).
    from closedform.estimate import _check_run_args

    assert _check_run_args(MAX_TRIALS, "cpu", 2**64 - 1, MAX_STREAMS) == (MAX_TRIALS, 2**64 - 1, MAX_STREAMS)
    assert _check_run_args(1e8, "cpu", np.uint64(3), np.int32(4)) == (10**8, 3, 4)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--trials", "1e18"], "trials must be a positive integer, at most 1e15"),
        (["--trials", "inf"], "trials must be a positive integer such as 1e8"),
        (["--trials", "nan"], "trials must be a positive integer such as 1e8"),
        (["--streams", "1000000000000"], "streams must be a positive integer, at most 2**26"),
    ],
)
def test_cli_run_bounds_exit_2(flags, message, capsys):
    from closedform.cli import main

    try:
        code = main(["simulate", "sector", "--n", "4", "--theta", "pi", *flags])
    except SystemExit as exc:  # argparse refuses the text itself
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err


@pytest.mark.cuda
@pytest.mark.parametrize("result", SIMULATED, ids=lambda r: r.name)
def test_default_streams_same_counts_on_cpu_and_cuda(result):
    # One default stream count on every route: the seed alone fixes the counts.
    case = dict(result.cases[0])
    trials = 96 if SIMULATOR else 200_000
    cpu = simulate_result(result, trials, seed=13, device="cpu", progress=False, **case)
    gpu = simulate_result(result, trials, seed=13, device="cuda", progress=False, **case)
    assert cpu.streams == gpu.streams == drivers.streams_for(trials, None)
    if result.simulation.kernel.integer or SIMULATOR:
        assert np.array_equal(cpu.totals, gpu.totals)
    else:  # a GPU's libm may round the last bit differently (as in test_cuda.py)
        assert np.allclose(cpu.totals, gpu.totals, rtol=1e-12, atol=0)


@pytest.mark.cuda
@pytest.mark.parametrize(
    "name, case", [("sector", FAST), ("largest_spacing_mean", {"n": 5}), ("argmax", {"noise": "gumbel", "mu": "0.3,0"})]
)
def test_chunked_cuda_run_continues_the_states(name, case):
    # On CUDA the states live on the device during a chunk: they must come back for the next one.
    result = by_name(name)
    kernel, packed = result.simulation.kernel, _packed(result, case)
    whole = kernel.run(packed, 203, 5, 8, device="cuda")
    state = kernel.start(packed, 203, 5, 8, device="cuda")
    for m in (1, 4, 2, 100):
        if not state.plan.finished:
            state.advance(m)
    assert state.plan.finished
    assert np.array_equal(state.out, whole.out)
