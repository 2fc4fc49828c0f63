"""Device surface: cuda, accelerator, backends, device parsing, default device, threads,
determinism; compared with torch (the CPU build installed here) call by call.

On a machine where CuPy sees a GPU, the rows that assume "no CUDA" are checked against the
GPU answers instead (is_available True, the queries answering).
"""

import contextlib
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
]

SAME_AS_TORCH = [
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
    with _restored(lib, "benchmark", "deterministic", "enabled"):
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
    from retrograd import _device

    assert retrograd.get_default_device() == retrograd.device("cpu")
    try:
        retrograd.set_default_device("cpu:0")
        assert str(retrograd.get_default_device()) == str(torch.device("cpu:0")) == "cpu:0"
        with retrograd.device("cpu"):
            assert retrograd.get_default_device() == retrograd.device("cpu")
        assert str(retrograd.get_default_device()) == "cpu:0"
        retrograd.set_default_device(None)
        assert retrograd.get_default_device() == retrograd.device("cpu")
        with pytest.raises(RuntimeError, match="mps"):
            retrograd.set_default_device("mps")
        if not _device.CREATION_USES_PLACEMENT:
            with pytest.raises(RuntimeError, match="do not consult a default device"):
                retrograd.set_default_device("cuda")
        elif not HAS_CUDA:
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
    threadpoolctl = pytest.importorskip("threadpoolctl")

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
