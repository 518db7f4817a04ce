"""Benchmarks (make bench)."""

import warnings

# Pyramid imports pkg_resources; its deprecation warning would be printed by every server process.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
