"""A faithful emulator of the Netflix API 1.5 feed resources (SPEC §8), for the demo,
the integration tests and the benchmarks. See docs/emulator.md."""
from __future__ import annotations

from .app import Emulator, create_emulator_app

__all__ = ["Emulator", "create_emulator_app"]
