"""Device surface: cuda, accelerator, backends, device parsing, default device, threads,
determinism; compared with torch (the CPU build installed here) call by call.

On a machine where CuPy sees a GPU, the rows that assume "no CUDA" are checked against the
GPU answers instead (is_available True, the queries answering).
"""

import contextlib
import sys
import warnings

import pytest
import torch

import retrograd
from retrograd import _runtime

HAS_CUDA = retrograd.cuda.is_available()


def outcome(lib, expr):
    """('ok', value) or ('raises', exception class) for ``expr`` evaluated with ``torch=lib``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "ok", eval(expr, {"torch": lib})
        except Exception as e:
            return "raises", type(e)


# Calls whose answer (or exception class) must equal torch's on a machine without CUDA.
SAME_AS_TORCH_WITHOUT_CUDA = [
    "torch.cuda.is_available()", "torch.cuda.device_count()", "torch.cuda.is_initialized()",
    "torch.cuda.current_device()", "torch.cuda.manual_seed(0)", "torch.cuda.manual_seed_all(1)",
    "torch.cuda.seed()", "torch.cuda.seed_all()", "torch.cuda.initial_seed()",
    "torch.cuda.synchronize()", "torch.cuda.empty_cache()", "torch.cuda.memory_allocated()",
    "torch.cuda.max_memory_allocated()", "torch.cuda.memory_reserved()",
    "torch.cuda.max_memory_reserved()", "dict(torch.cuda.memory_stats())",
    "torch.cuda.get_device_name()", "torch.cuda.get_device_name(0)",
    "torch.cuda.get_device_properties(0)", "torch.cuda.get_device_capability()",
    "torch.cuda.mem_get_info()", "torch.cuda.is_bf16_supported()",
    "torch.cuda.is_bf16_supported(including_emulation=False)", "torch.cuda.init()",
    "torch.cuda.set_device('cpu')", "torch.cuda.set_device(-1)",
    "torch.cuda.device(0).__enter__()", "torch.cuda.device(-1).__enter__()",
    "torch.cuda.Stream()", "torch.cuda.Event()", "torch.cuda.current_stream()",
    "torch.cuda.default_stream()", "torch.cuda.stream(None).__enter__()",
    "torch.cuda.get_rng_state()", "torch.cuda.get_rng_state_all()", "torch.cuda.get_arch_list()",
    "torch.cuda.device_of(torch.zeros(1)).__enter__()",
    "torch.accelerator.is_available()", "torch.accelerator.device_count()",
    "torch.accelerator.current_accelerator()",
    "torch.accelerator.current_accelerator(check_available=True)",
    "torch.accelerator.current_device_index()", "torch.accelerator.set_device_index(0)",
    "torch.accelerator.synchronize()", "torch.accelerator.current_stream()",
    "torch.accelerator.device_index(None).__enter__()", "torch.accelerator.empty_cache()",
    "torch.accelerator.memory_allocated()", "torch.accelerator.max_memory_allocated()",
    "torch.accelerator.set_stream(None)",
    "torch.device(0)", "torch.zeros(2, device=0)",
    "torch.zeros(2).to('cuda')", "torch.zeros(2).cuda()", "torch.nn.Linear(2, 2).cuda()",
    "torch.tensor([1.], device='cuda')", "torch.zeros(2, device='cuda:1')",
]

SAME_AS_TORCH = [
    "torch.device('mps')", "torch.device('xla')",
    "torch.backends.cudnn.enabled", "torch.backends.cudnn.benchmark",
    "torch.backends.cudnn.deterministic", "torch.backends.cudnn.allow_tf32",
    "torch.backends.cudnn.is_available()", "torch.backends.cudnn.version()",
    "torch.backends.cudnn.is_acceptable(torch.zeros(1))",
    "torch.backends.cuda.matmul.allow_tf32",
    "torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction",
    "torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction",
    "torch.backends.cuda.matmul.nope", "torch.backends.cuda.flash_sdp_enabled()",
    "torch.backends.cuda.math_sdp_enabled()", "torch.backends.cuda.is_flash_attention_available()",
    "torch.backends.mps.is_available()", "torch.backends.mps.is_built()",
    "torch.backends.mps.is_macos_or_newer(14, 0)", "torch.backends.mkldnn.enabled",
    "torch.backends.cpu.get_cpu_capability()",
    "torch.get_float32_matmul_precision()", "torch.set_float32_matmul_precision(3)",
    "torch.are_deterministic_algorithms_enabled()",
    "torch.is_deterministic_algorithms_warn_only_enabled()",
    "torch.get_deterministic_debug_mode()", "torch.set_deterministic_debug_mode('bad')",
    "torch.set_deterministic_debug_mode(5)",
    "torch.set_deterministic_debug_mode(1.0)", "torch.get_default_device()",
    "torch.set_num_threads(0)", "torch.set_num_threads(1.5)", "torch.set_num_threads(True)",
    "torch.set_num_interop_threads(0)", "torch.zeros(2).to('mps')",
    "torch.nn.Linear(2, 2).to('mps')", "torch.set_default_dtype(torch.int32)",
    "str(torch.device('cuda', 3))", "repr(torch.device('cuda:1'))", "torch.device('cpu', 0)",
    "torch.device('cuda:x')", "torch.device('cuda:01')", "torch.device('cuda:1:2')",
    "torch.device('cpu:')", "torch.device(' cpu')", "torch.device('CPU')",
    "torch.device('foo')", "torch.device('cuda', -1)", "torch.device('cuda:1', 2)",
    "torch.device('cpu', 'x')", "torch.device('cpu', True)", "torch.device(1.5)",
    "torch.device(type='cuda', index=2).index", "torch.device('cuda', index=None).index",
    "str(torch.device(torch.device('cuda:2')))",
    "hash(torch.device('cuda:1')) == hash(torch.device('cuda', 1))",
]


def _same(expr):
    ours, theirs = outcome(retrograd, expr), outcome(torch, expr)
    if theirs[0] == "ok" and type(theirs[1]).__module__.startswith("torch"):
        # A torch object (a device): compare its printed form.
        theirs = ("ok", str(theirs[1]))
        ours = (ours[0], str(ours[1]))
    assert ours == theirs, expr


@pytest.mark.skipif(HAS_CUDA, reason="these rows are torch's answers without CUDA")
@pytest.mark.parametrize("expr", SAME_AS_TORCH_WITHOUT_CUDA)
def test_cuda_surface_matches_torch_without_cuda(expr):
    _same(expr)


@pytest.mark.parametrize("expr", SAME_AS_TORCH)
def test_backends_and_switches_match_torch(expr):
    _same(expr)


@pytest.mark.skipif(not HAS_CUDA, reason="needs CuPy and a GPU")
def test_cuda_queries_answer_on_a_gpu():
    n = retrograd.cuda.device_count()
    assert n >= 1 and retrograd.cuda.is_available() and retrograd.accelerator.is_available()
    assert 0 <= retrograd.cuda.current_device() < n
    assert retrograd.cuda.get_device_name() == retrograd.cuda.get_device_properties(0).name
    x = retrograd.ones(1000, device="cuda")
    assert retrograd.cuda.memory_allocated() >= 4000
    assert retrograd.cuda.max_memory_allocated() >= retrograd.cuda.memory_allocated()
    start, end = retrograd.cuda.Event(enable_timing=True), retrograd.cuda.Event(enable_timing=True)
    start.record()
    (x * 2).sum()
    end.record()
    end.synchronize()
    assert start.elapsed_time(end) >= 0
    retrograd.cuda.synchronize()
    assert retrograd.accelerator.current_accelerator() == retrograd.device("cuda")


def test_no_cuda_errors_are_torchs_classes_and_say_why():
    if HAS_CUDA:
        pytest.skip("this machine has CUDA")
    with pytest.raises(AssertionError, match="CuPy"):
        retrograd.cuda.current_device()
    with pytest.raises(RuntimeError, match="Cannot access accelerator device when none"):
        retrograd.accelerator.current_device_index()
    with pytest.raises(RuntimeError, match="not linked with support for mps devices"):
        retrograd.zeros(2).to("mps")


@contextlib.contextmanager
def _restored(lib, *names):
    """Put the named flags of ``lib.backends.cudnn`` back after the test."""
    before = {n: getattr(lib.backends.cudnn, n) for n in names}
    try:
        yield
    finally:
        for n, v in before.items():
            setattr(lib.backends.cudnn, n, v)


@pytest.mark.parametrize("lib", [retrograd, torch], ids=["retrograd", "torch"])
def test_cudnn_flags_are_settable_checked_and_scoped(lib):
    cudnn = lib.backends.cudnn
    # Importing torch.testing._internal (the op_db tests, same worker) freezes torch's global
    # flags; allow setting them again for this comparison, as torch's own tests do.
    allow = (getattr(torch.backends, "__allow_nonbracketed_mutation")() if lib is torch
             else contextlib.nullcontext())
    with allow, _restored(lib, "benchmark", "deterministic", "enabled"):
        cudnn.benchmark = True
        cudnn.deterministic = True
        assert cudnn.benchmark is True and cudnn.deterministic is True
        with pytest.raises(RuntimeError, match="set_benchmark_cudnn expects a bool"):
            cudnn.benchmark = 1
        with cudnn.flags(enabled=False, benchmark=False, deterministic=False):
            assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic) == (False,) * 3
        assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic) == (True,) * 3
    with lib.backends.mkldnn.flags(enabled=False):
        assert lib.backends.mkldnn.enabled is False
    assert lib.backends.mkldnn.enabled is True


@pytest.mark.parametrize("lib", [retrograd, torch], ids=["retrograd", "torch"])
def test_matmul_precision_and_allow_tf32_move_together(lib):
    try:
        lib.backends.cuda.matmul.allow_tf32 = True
        assert lib.get_float32_matmul_precision() == "high"
        lib.set_float32_matmul_precision("highest")
        assert lib.backends.cuda.matmul.allow_tf32 is False
        lib.set_float32_matmul_precision("medium")
        assert lib.backends.cuda.matmul.allow_tf32 is True
        with pytest.warns(UserWarning, match="bad is not one of"):
            lib.set_float32_matmul_precision("bad")
        assert lib.get_float32_matmul_precision() == "medium"
    finally:
        lib.set_float32_matmul_precision("highest")


def test_deterministic_switches():
    # torch's first use_deterministic_algorithms call takes seconds (it imports its compiler
    # stack), so its answers were recorded here instead of asked for at test time.
    lib = retrograd
    with pytest.raises(TypeError, match=r"argument 'mode' .* must be bool, not int"):
        lib.use_deterministic_algorithms(1)
    with pytest.raises(TypeError, match="argument 'warn_only' must be bool, not int"):
        lib.use_deterministic_algorithms(True, warn_only=1)
    try:
        lib.use_deterministic_algorithms(True, warn_only=True)
        assert lib.are_deterministic_algorithms_enabled()
        assert lib.get_deterministic_debug_mode() == 1
        lib.set_deterministic_debug_mode("error")
        assert not lib.is_deterministic_algorithms_warn_only_enabled()
        assert lib.get_deterministic_debug_mode() == 2
        lib.set_deterministic_debug_mode(0)
        assert not lib.are_deterministic_algorithms_enabled()
    finally:
        lib.use_deterministic_algorithms(False)


def test_nondeterministic_kernels_are_refused_when_asked():
    try:
        _runtime.alert_not_deterministic("scatter_add_cuda_kernel")  # off: nothing happens
        retrograd.use_deterministic_algorithms(True)
        with pytest.raises(RuntimeError, match="scatter_add_cuda_kernel does not have a determ"):
            _runtime.alert_not_deterministic("scatter_add_cuda_kernel")
        retrograd.use_deterministic_algorithms(True, warn_only=True)
        with pytest.warns(UserWarning, match="does not have a deterministic implementation"):
            _runtime.alert_not_deterministic("scatter_add_cuda_kernel")
    finally:
        retrograd.use_deterministic_algorithms(False)


def test_default_device():

    assert retrograd.get_default_device() == retrograd.device("cpu")
    try:
        retrograd.set_default_device("cpu:0")
        assert str(retrograd.get_default_device()) == str(torch.device("cpu:0")) == "cpu:0"
        with retrograd.device("cpu"):
            assert retrograd.get_default_device() == retrograd.device("cpu")
        assert str(retrograd.get_default_device()) == "cpu:0"
        retrograd.set_default_device(None)
        assert retrograd.get_default_device() == retrograd.device("cpu")
        with pytest.raises(RuntimeError, match="mps"):  # when set (now) or when used (torch)
            retrograd.set_default_device("mps")
            retrograd.get_default_device()
        retrograd.set_default_device(None)
        if not HAS_CUDA:
            retrograd.set_default_device("cuda")
            with pytest.raises(AssertionError):  # as torch: accepted, refused on use
                retrograd.get_default_device()
            with pytest.raises(AssertionError):
                retrograd.zeros(2)
    finally:
        retrograd.set_default_device(None)
    assert retrograd.get_default_device() == retrograd.device("cpu")


def test_placement_checks_the_device():
    from retrograd._device import placement

    assert placement(None) == placement("cpu") == placement(retrograd.device("cpu")) == "cpu"
    if not HAS_CUDA:
        with pytest.raises(AssertionError, match="CuPy"):
            placement("cuda:0")
    with pytest.raises(RuntimeError, match="meta"):
        placement("meta")


def test_num_threads_reach_the_blas():
    import threadpoolctl

    def blas_threads():
        return [i["num_threads"] for i in threadpoolctl.threadpool_info()
                if i["user_api"] == "blas"]

    before = retrograd.get_num_threads()
    try:
        retrograd.set_num_threads(1)
        assert retrograd.get_num_threads() == 1 and set(blas_threads()) == {1}
        retrograd.set_num_threads(2)
        assert retrograd.get_num_threads() == 2 and set(blas_threads()) == {2}
    finally:
        retrograd.set_num_threads(before)


def test_num_threads_without_threadpoolctl(monkeypatch):
    monkeypatch.setattr(_runtime, "_controller", lambda: None)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    assert retrograd.get_num_threads() == 3
    with pytest.warns(RuntimeWarning, match="threadpoolctl is not installed"):
        retrograd.set_num_threads(2)
    assert retrograd.get_num_threads() == 3
    assert retrograd.get_num_interop_threads() == 1
    with pytest.warns(RuntimeWarning, match="no inter-op thread pool|one at a time"):
        retrograd.set_num_interop_threads(4)


def test_blas_facts():
    from retrograd.backends import _blas

    assert retrograd.backends.mkl.is_available() == ("mkl" in _blas.blas_name())
    assert retrograd.backends.mkldnn.is_available() is False
    assert isinstance(retrograd.backends.openmp.is_available(), bool)


# --- the CuPy glue, against a stand-in CuPy with two GPUs -----------------------------------

class _FakeCupy:
    """Just the CuPy surface retrograd.cuda uses, with two devices and a counting pool."""

    def __init__(self):
        import importlib.machinery
        import types

        self.__spec__ = importlib.machinery.ModuleSpec("cupy", None)
        self.current, self.synced, self.freed = 0, [], 0
        fake = self

        class Pool:
            used = total = 0

            def malloc(self, size):
                self.used += size
                self.total = max(self.total, self.used)
                return ("ptr", size)

            def used_bytes(self):
                return self.used

            def total_bytes(self):
                return self.total

            def free_all_blocks(self):
                fake.freed += 1

        class Device:
            def __init__(self, i):
                self.i = i

            def __enter__(self):
                self.prev, fake.current = fake.current, self.i

            def __exit__(self, *exc):
                fake.current = self.prev

            def synchronize(self):
                fake.synced.append(self.i)

        class Event:
            def __init__(self, block, disable_timing, interprocess):
                self.timing, self.t = not disable_timing, None

            def record(self, stream=None):
                self.t = len(fake.synced)

            done = True

        class Stream:
            def __init__(self, non_blocking=False, priority=0):
                self.ptr = id(self)

            done = True

            def use(self):
                fake.stream = self

            def __enter__(self):
                self.prev, fake.stream = fake.stream, self

            def __exit__(self, *exc):
                fake.stream = self.prev

        Stream.null = self.stream = Stream()
        self.pool = Pool()
        runtime = types.SimpleNamespace(
            getDeviceCount=lambda: 2, getDevice=lambda: fake.current,
            setDevice=lambda i: setattr(fake, "current", i),
            getDeviceProperties=lambda i: {"name": f"Fake GPU {i}".encode(), "major": 9,
                                           "minor": 0, "totalGlobalMem": 80 << 30,
                                           "multiProcessorCount": 132},
            memGetInfo=lambda: (70 << 30, 80 << 30))
        self.cuda = types.SimpleNamespace(
            runtime=runtime, Device=Device, Event=Event, Stream=Stream,
            get_current_stream=lambda: fake.stream,
            get_elapsed_time=lambda a, b: 1.5,
            set_allocator=lambda fn: setattr(fake, "allocator", fn))

    def get_default_memory_pool(self):
        return self.pool


@pytest.fixture
def fake_gpus(monkeypatch):
    from retrograd import _device
    from retrograd.cuda import memory

    fake = _FakeCupy()
    monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.setattr(_device, "_cuda_count", None)
    monkeypatch.setattr(retrograd.cuda, "_initialized", False)
    monkeypatch.setattr(memory, "_peaks", {})
    return fake


def test_cuda_answers_through_cupy(fake_gpus):
    cuda = retrograd.cuda
    assert cuda.is_available() and cuda.device_count() == 2 and not cuda.is_initialized()
    assert retrograd.accelerator.current_accelerator() == retrograd.device("cuda")
    assert cuda.current_device() == 0 and cuda.is_initialized()
    cuda.set_device("cuda:1")
    assert cuda.current_device() == retrograd.accelerator.current_device_index() == 1
    with cuda.device(0):
        assert cuda.current_device() == 0
    assert cuda.current_device() == 1
    with pytest.raises(ValueError, match="Expected a cuda device"):
        cuda.set_device("cpu")
    assert cuda.get_device_name(0) == "Fake GPU 0"
    assert cuda.get_device_capability() == (9, 0) and cuda.get_arch_list() == ["sm_90"]
    props = cuda.get_device_properties(1)
    assert (props.total_memory, props.multi_processor_count) == (80 << 30, 132)
    assert "Fake GPU 1" in repr(props)
    cuda.synchronize(0)
    retrograd.accelerator.synchronize()
    assert fake_gpus.synced == [0, 1]
    assert cuda.mem_get_info() == (70 << 30, 80 << 30)


def test_cuda_memory_counters_track_peaks(fake_gpus):
    cuda = retrograd.cuda
    cuda.init()
    fake_gpus.allocator(1000)
    fake_gpus.allocator(500)
    fake_gpus.pool.used -= 1200  # tensors freed: the pool keeps the blocks
    assert cuda.memory_allocated() == 300 and cuda.max_memory_allocated() == 1500
    assert cuda.memory_reserved() == cuda.max_memory_reserved() == 1500
    assert dict(cuda.memory_stats())["allocated_bytes.all.peak"] == 1500
    cuda.reset_peak_memory_stats()
    assert cuda.max_memory_allocated() == 300
    assert retrograd.accelerator.max_memory_allocated() == 300
    cuda.empty_cache()
    assert fake_gpus.freed == 1


def test_cuda_streams_and_events(fake_gpus):
    cuda = retrograd.cuda
    s = cuda.Stream()
    assert s.query() and s == s and s != cuda.current_stream()
    with cuda.stream(s) as inside:
        assert inside is s and cuda.current_stream() == s
    assert cuda.current_stream() != s
    with cuda.stream(None) as inside:
        assert inside is None
    start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
    start.record()
    end.record(s)
    assert start.query() and start.elapsed_time(end) == 1.5
    assert cuda.default_stream() == cuda.current_stream()
    retrograd.accelerator.set_stream(s)
    assert retrograd.accelerator.current_stream() == s


@pytest.mark.parametrize("name", ["_device", "cuda", "accelerator", "backends"])
def test_doctests(name):
    import doctest
    import importlib

    failures, tried = doctest.testmod(importlib.import_module(f"retrograd.{name}"))
    assert tried > 0 and failures == 0
