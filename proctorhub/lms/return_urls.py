"""Which hosts an lms's launches may send the learner back to (``return_url``).

A launch's ``return_url`` is where the browser goes after the exam; a stolen or misused lms token
could point it anywhere. Each lms may be limited to a list of hosts with the setting
``proctorhub.lms.<slug>.return_url_hosts`` (space- or comma-separated): an entry is a host name
(``lms.example.edu``), or ``*.example.edu`` for any host below it. Without a list, any host is
accepted, as before.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..errors import InvalidPayload


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    for entry in allowed:
        if entry.startswith("*.") and host.endswith(entry[1:]) and len(host) > len(entry) - 1:
            return True
        if host == entry:
            return True
    return False


def check_return_url(request, return_url: str) -> None:
    """400 ``invalid_payload`` (field ``return_url``) when the caller's lms limits its hosts and
    this URL's host is not among them."""
    allowed = request.app_settings.lms_return_url_hosts.get(request.lms.slug)
    if not allowed:
        return
    host = urlsplit(return_url).hostname or ""
    if not host_allowed(host, allowed):
        raise InvalidPayload("the return_url's host is not one this lms may send learners back to",
                             details={"fields": {"return_url": f"host {host!r} is not in this lms's allowed hosts"},
                                      "allowed_hosts": list(allowed)})
