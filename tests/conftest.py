"""Settings for the whole suite."""

from hypothesis import settings

# Hypothesis's per-example deadline is a timed assertion; the machines that run this suite are
# shared and noisy, so it is off. Speed is measured by bench/, not here.
settings.register_profile("clarion", deadline=None)
settings.load_profile("clarion")
