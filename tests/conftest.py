"""Shared settings: hypothesis profiles (CI runs the `ci` profile); the browser tests' plugin."""

import os

from hypothesis import HealthCheck, settings

# where the browser tests' screenshots go, printed at the end of the run
pytest_plugins = ["tests.browser.screenshots"]

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
