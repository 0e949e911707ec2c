"""Shared fixtures: a real emulator on loopback and feedhub services on a temp dir."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from feedhub.config import load_settings
from feedhub.emulator import create_emulator_app
from feedhub.emulator.server import serve_in_thread
from feedhub.services import build_services

START = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)


def start_emulator(seed: int = 7):
    """The emulator with three users and a clock the test controls (fixed at START),
    serving on loopback: (the emulator, its server)."""
    app = create_emulator_app(seed=seed, users=3, start=START, pace_seconds=20.0)
    emulated = app.extensions["emulator"]
    emulated.clock.set(START)
    server = serve_in_thread(app)
    emulated.base_url = server.url
    return emulated, server


@pytest.fixture
def emulator():
    """The emulator with three users and a clock the test controls (fixed at START)."""
    emulated, server = start_emulator()
    yield emulated
    server.stop()


@pytest.fixture
def settings(tmp_path):
    return load_settings({"data_dir": tmp_path, "allow_private_networks": True, "poll_interval": 60}, environ={})


@pytest.fixture
def services(settings):
    built = build_services(settings)
    yield built
    built.close()
