"""``/admin/backends/``: the installed vendor plugins, which are enabled, and what they accept."""

from __future__ import annotations

from ..backends import installed_backend_names
from ..security import Permission
from .resources import BackendsResource, admin_view

TEMPLATES = "proctorhub:templates/admin/"


def backends_list(request) -> list[dict]:
    enabled = {backend.name: backend for backend in request.backends}
    answer = []
    for name in sorted(set(installed_backend_names()) | set(enabled)):
        backend = enabled.get(name)
        if backend is not None:
            answer.append({**backend.describe(), "enabled": True})
        else:
            answer.append({"name": name, "verbose_name": name, "enabled": False})
    return answer


@admin_view(context=BackendsResource, request_method="GET", accept="application/json", renderer="json",
             permission=Permission.view_backends)
def backend_list(context, request):
    """Installed plugins: enabled ones with their passing statuses, redacted fields and signing."""
    return {"backends": backends_list(request)}


@admin_view(context=BackendsResource, request_method="GET", accept="text/html",
             renderer=TEMPLATES + "backends.jinja2", permission=Permission.view_backends)
def backends_page(context, request):
    return {"backends": backends_list(request), "nav": "backends"}
