"""Test-wide settings: Hypothesis profiles.

`make test` runs the derandomised `ci` profile (fixed examples, bounded count, no
deadline: the 2-core CI machine is shared and its timings are noise). `dev` explores more.
Choose with HYPOTHESIS_PROFILE=dev|ci.
"""

import os

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
