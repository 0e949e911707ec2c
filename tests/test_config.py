from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from feedhub.config import SETTINGS, ConfigError, Settings, load_settings

README = Path(__file__).parent.parent / "README.md"


def test_environment_overrides_defaults_and_overrides_win(tmp_path):
    env = {"FEEDHUB_DATA_DIR": str(tmp_path), "FEEDHUB_POLL_INTERVAL": "60", "FEEDHUB_ALLOW_PRIVATE_NETWORKS": "yes"}
    settings = load_settings({"poll_interval": 120}, environ=env)
    assert settings.data_dir == tmp_path
    assert settings.poll_interval == 120
    assert settings.allow_private_networks is True
    assert settings.database_url == f"sqlite:///{(tmp_path / 'feedhub.db').resolve()}"


def test_config_file_is_read_before_the_environment(tmp_path):
    path = tmp_path / "feedhub.toml"
    path.write_text('poll_interval = 300\nmax_concurrency = 3\n')
    settings = load_settings(environ={"FEEDHUB_CONFIG_FILE": str(path), "FEEDHUB_MAX_CONCURRENCY": "5"})
    assert (settings.poll_interval, settings.max_concurrency) == (300, 5)


@pytest.mark.parametrize(
    "env",
    [{"FEEDHUB_POLL_INTERVAL": "soon"}, {"FEEDHUB_POLL_INTERVAL": "1"}, {"FEEDHUB_ALLOW_PRIVATE_NETWORKS": "maybe"}],
    ids=["not-a-number", "too-small", "not-a-boolean"],
)
def test_bad_values_get_a_clear_error(env):
    with pytest.raises(ConfigError, match="FEEDHUB_"):
        load_settings(environ=env)


def test_every_setting_is_documented_in_code_and_readme():
    names = {f.name.upper() for f in fields(Settings)}
    assert names <= set(SETTINGS)
    documented = set(re.findall(r"`FEEDHUB_([A-Z_]+)`", README.read_text(encoding="utf-8")))
    assert set(SETTINGS) <= documented
