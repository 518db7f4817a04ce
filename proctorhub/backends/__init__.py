"""Vendor backend plugins: the interface, and loading the enabled ones once at start-up.

Plugins live in their own distributions (see ``backends/`` at the top of the repository) and
register in the ``proctorhub.backends`` entry-point group; the core never imports them.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from stevedore import NamedExtensionManager

from .base import SIGNATURE_HEADER, ReviewBackend, sign  # noqa: F401
from .errors import AuthenticationFailed, BackendError, BadReviewStatus  # noqa: F401
from .normalised import NormalisedPayloadBackend  # noqa: F401
from .schema import NormalisedReviewSchema  # noqa: F401

NAMESPACE = "proctorhub.backends"


class BackendStartupError(RuntimeError):
    """An enabled plugin is missing, broken or misconfigured; start-up stops."""


def installed_backend_names() -> list[str]:
    return sorted({ep.name for ep in entry_points(group=NAMESPACE)})


class BackendRegistry:
    """The enabled backends, by entry-point name."""

    def __init__(self, backends: dict[str, ReviewBackend]):
        self._backends = dict(backends)

    def get(self, name: str) -> ReviewBackend | None:
        return self._backends.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self._backends

    def __iter__(self):
        return iter(sorted(self._backends.values(), key=lambda b: b.name))

    def names(self) -> list[str]:
        return sorted(self._backends)


def load_backends(app_settings) -> BackendRegistry:
    enabled = list(app_settings.backends)
    if not enabled:
        return BackendRegistry({})
    installed = installed_backend_names()
    problems: list[str] = []
    missing = sorted(set(enabled) - set(installed))
    if missing:
        problems.append(f"not installed: {', '.join(missing)}")

    def broken(_manager, entrypoint, exc):
        problems.append(f"{entrypoint.name} failed to load: {type(exc).__name__}: {exc}")

    manager = NamedExtensionManager(
        NAMESPACE,
        names=enabled,
        name_order=True,
        on_missing_entrypoints_callback=None,  # reported above, apart from plugins that failed to load
        on_load_failure_callback=broken,
    )
    backends: dict[str, ReviewBackend] = {}
    for extension in manager.extensions:
        plugin = extension.plugin
        if not (isinstance(plugin, type) and issubclass(plugin, ReviewBackend)):
            problems.append(f"{extension.name} is not a proctorhub.backends.ReviewBackend subclass")
            continue
        try:
            backend = plugin(
                app_settings.options_for(extension.name),
                signature_window_seconds=app_settings.signature_window_seconds,
            )
            backend.name = extension.name
            backend.check_startup()
        except Exception as exc:  # any failure here is a configuration problem to report
            problems.append(f"{extension.name} cannot start: {exc}")
            continue
        backends[extension.name] = backend
    if problems:
        raise BackendStartupError(
            "proctorhub.backends = " + " ".join(enabled) + ": " + "; ".join(problems)
            + f". Installed backends: {', '.join(installed) or 'none'}."
        )
    return BackendRegistry(backends)


def includeme(config):
    config.registry.backends = load_backends(config.registry.app_settings)
    config.add_request_method(lambda request: request.registry.backends, "backends", reify=True)
