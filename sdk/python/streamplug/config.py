"""The plugin's config values (``[plugins.config]`` of its manifest)."""

from typing import Dict, Optional

from ._bindings import config as wit_config


def get(key: str, default: Optional[str] = None) -> Optional[str]:
    """The value of ``key``, or ``default``."""
    value = wit_config.get(key)
    return default if value is None else value


def get_all() -> Dict[str, str]:
    """Every configured key and value."""
    return dict(wit_config.get_all())
