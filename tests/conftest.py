"""Test-wide settings: Hypothesis profiles, and fixtures more than one test file uses.

`make test` runs the derandomised `ci` profile (fixed examples, bounded count, no
deadline: the 2-core CI machine is shared and its timings are noise). `dev` explores more.
Choose with HYPOTHESIS_PROFILE=dev|ci.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=25,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="module")
def private_jit_cache(tmp_path_factory):
    """Compiled artefacts go to a temporary cache of this test module; lowered IR is
    verified. Use with `pytestmark = pytest.mark.usefixtures("private_jit_cache")`."""
    patch = pytest.MonkeyPatch()
    patch.setenv("SPARSEC_CACHE_DIR", str(tmp_path_factory.mktemp("jit-cache")))
    patch.setenv("SPARSEC_VERIFY", "1")
    yield
    patch.undo()


@pytest.fixture(scope="module")
def small_kernels_in_parallel(tmp_path_factory):
    """A private compile cache, verified IR, and no minimum work for threads: small
    kernels run split over the team when threads=2 (races between threads need two
    threads on one kernel). Use with `pytestmark = pytest.mark.usefixtures(...)`."""
    from sparsec.lowering import nn_to_loops
    from sparsec.lowering.kernels import elementwise, pooling, reductions

    patch = pytest.MonkeyPatch()
    patch.setenv("SPARSEC_CACHE_DIR", str(tmp_path_factory.mktemp("jit-cache")))
    patch.setenv("SPARSEC_VERIFY", "1")
    patch.setattr(nn_to_loops, "PARALLEL_MIN_WORK", 0)
    for module in (elementwise, pooling, reductions):
        patch.setattr(module, "PARALLEL_MIN_ELEMENTS", 0)
    yield
    patch.undo()
