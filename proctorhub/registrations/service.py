"""LTI Dynamic Registration: starting a registration, the tool's one registration request, and
the admin's approval.

A registration is started by an admin (``start``), which hands out a one-time registration token
(stored as its digest) inside the URL the tool is opened at. The tool's registration request
spends the token (``complete``): a new tool becomes a ``pending`` configuration; a registration
started for an existing configuration leaves its live values alone and files the new ones as
its ``pending_update``. Either waits for an admin's ``approve`` (or ``reject``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update

from ..errors import Conflict, ProctorhubError, Unauthenticated
from ..lti.urls import platform_urls, with_query
from ..models import AuditEntry, ConfigurationStatus, Registration, ToolConfiguration, digest, utcnow
from ..models.configuration import ACS_ACTIONS
from ..models.dialect import mark_written
from ..models.retry import flush_or_retry
from .metadata import TOOL_CONFIGURATION, ToolMetadata

NAME_LENGTH = ToolConfiguration.__table__.c.name.type.length


class RegistrationTokenRefused(Unauthenticated):
    """The registration token is missing, unknown, spent or expired (401)."""


@dataclass(frozen=True)
class Started:
    registration: Registration
    redirect_url: str


def registration_state(registration: Registration, now: dt.datetime | None = None) -> str:
    """``completed`` once the tool registered, ``expired`` past its time unused, else ``waiting``."""
    if registration.used_at is not None:
        return "completed"
    return "expired" if registration.expires_at <= (now or utcnow()) else "waiting"


def start(dbsession, *, issuer: str, ttl_seconds: int, initiation_url: str, started_by: str,
          started_by_staff_id: int | None, configuration: ToolConfiguration | None = None,
          backend: str | None = None) -> Started:
    """A new registration; ``redirect_url`` is the initiation URL with ``openid_configuration``
    and the one-time ``registration_token`` (shown once, stored only as its digest)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    registration = Registration(
        token_hash=digest(token), initiation_url=initiation_url,
        kind="update" if configuration is not None else "create",
        configuration_id=configuration.id if configuration is not None else None,
        backend=backend, started_by=started_by, started_by_staff_id=started_by_staff_id,
        created_at=now, expires_at=now + dt.timedelta(seconds=ttl_seconds),
    )
    dbsession.add(registration)
    dbsession.flush()
    redirect_url = with_query(initiation_url, {"openid_configuration": platform_urls(issuer)["openid_configuration"],
                                               "registration_token": token})
    return Started(registration, redirect_url)


def registration_for_token(dbsession, token: str | None) -> Registration:
    """The registration a bearer ``registration_token`` opens, if it may still be used."""
    if not token:
        raise RegistrationTokenRefused("send the registration_token from the registration URL as "
                                       "'Authorization: Bearer <registration_token>'",
                                       code="missing_registration_token")
    registration = dbsession.execute(
        select(Registration).where(Registration.token_hash == digest(token))
    ).scalar_one_or_none()
    if registration is None:
        raise RegistrationTokenRefused("the registration token is not one proctorhub issued",
                                       code="invalid_registration_token")
    state = registration_state(registration)
    if state == "completed":
        raise RegistrationTokenRefused("the registration token was used already; ask the platform's admin to "
                                       "start a new registration", code="registration_token_used")
    if state == "expired":
        raise RegistrationTokenRefused("the registration token has expired; ask the platform's admin to start a "
                                       "new registration", code="registration_token_expired")
    return registration


def _spend(dbsession, registration: Registration) -> None:
    """Mark the token used, unless a concurrent request did first (then 401, as a second use)."""
    now = utcnow()
    spent = dbsession.execute(
        update(Registration)
        .where(Registration.id == registration.id, Registration.used_at.is_(None), Registration.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    mark_written(dbsession)
    if spent != 1:
        raise RegistrationTokenRefused("the registration token was used already", code="registration_token_used")
    registration.used_at = now


def _free_name(dbsession, wanted: str) -> str:
    """``wanted``, or ``wanted (2)``, ``(3)``...: two registrations of one product need two names."""
    taken = set(dbsession.execute(
        select(ToolConfiguration.name).where(ToolConfiguration.name.startswith(wanted[: NAME_LENGTH - 8]))
    ).scalars())
    name, number = wanted[:NAME_LENGTH], 2
    while name in taken:
        suffix = f" ({number})"
        name, number = wanted[: NAME_LENGTH - len(suffix)] + suffix, number + 1
    return name


def _registered_values(metadata: ToolMetadata) -> dict:
    """The configuration fields a registration sets. An update proposes new values for these only:
    the name, deployment, backend and proctoring switch stay the admin's."""
    return {
        "oidc_login_url": metadata.initiate_login_uri,
        "launch_url": metadata.launch_url,
        "end_assessment_url": metadata.end_assessment_url,
        "redirect_uris": list(metadata.redirect_uris),
        "jwks_url": metadata.jwks_uri,
        "public_key_pem": None,
        # The ACS scope is all of the service (control.all): every action, until an admin narrows it.
        "acs_actions": list(ACS_ACTIONS) if metadata.wants_acs else [],
        # Sent back in every launch, substituted ($User.id, $Attempt.code ...: lti/custom.py).
        "custom": dict(metadata.document.get(TOOL_CONFIGURATION, {}).get("custom_parameters") or {}),
    }


def _requested(metadata: ToolMetadata, registration: Registration) -> dict:
    """What the tool asked for, as the approval page shows it."""
    return {
        "registration_id": registration.id,
        "client_name": metadata.client_name,
        "scopes": list(metadata.scopes),
        "messages": list(metadata.messages),
        "initiate_login_uri": metadata.initiate_login_uri,
        "redirect_uris": list(metadata.redirect_uris),
        "jwks_uri": metadata.jwks_uri,
        "target_link_uri": metadata.launch_url,
        "end_assessment_url": metadata.end_assessment_url,
        "metadata": metadata.document,
    }


def _audit(dbsession, registration: Registration, configuration: ToolConfiguration, action: str,
           changes: dict) -> None:
    dbsession.add(AuditEntry(staff_user_id=None, actor=f"tool registration {registration.id} (started by "
                             f"{registration.started_by})"[:255], object_type="configuration",
                             object_id=str(configuration.id), action=action, changes=changes))


def complete(dbsession, registration: Registration, metadata: ToolMetadata) -> ToolConfiguration:
    """The tool's registration request, checked: spend the token and create (pending) or file the
    update of the configuration."""
    _spend(dbsession, registration)
    values = _registered_values(metadata)
    requested = _requested(metadata, registration)
    if registration.kind == "update":
        configuration = registration.configuration
        if configuration is None or configuration.status == ConfigurationStatus.rejected:
            raise Conflict("the configuration this registration was started for is no longer open to updates",
                           code="configuration_unavailable")
        changes = {key: [getattr(configuration, key), value] for key, value in values.items()
                   if getattr(configuration, key) != value}
        if configuration.status == ConfigurationStatus.pending:
            # Never approved yet: the new registration simply replaces what waits for approval.
            for key, value in values.items():
                setattr(configuration, key, value)
            configuration.registration = requested
        else:
            configuration.pending_update = {"values": values, "registration": requested}
        _audit(dbsession, registration, configuration, "registration_update", changes)
        flush_or_retry(dbsession)
        return configuration
    configuration = ToolConfiguration(
        name=_free_name(dbsession, metadata.client_name),
        deployment_id=secrets.token_hex(8),
        proctoring_enabled=True,
        backend=registration.backend,
        status=ConfigurationStatus.pending.value,
        registration=requested,
        **values,
    )
    dbsession.add(configuration)
    # Two registrations of one product at once may pick the same free name: the loser is retried.
    flush_or_retry(dbsession)
    registration.configuration_id = configuration.id
    _audit(dbsession, registration, configuration, "register",
           {key: [None, value] for key, value in {"name": configuration.name, **values}.items()
            if value not in (None, [])})
    return configuration


def registration_response(configuration: ToolConfiguration, metadata: ToolMetadata) -> dict:
    """The registered client, as LTI Dynamic Registration answers: the tool's metadata with its
    ``client_id``, and ``deployment_id`` inside the tool configuration object."""
    document = {key: value for key, value in metadata.document.items() if key != "registration_token"}
    tool = dict(document.get(TOOL_CONFIGURATION) or {})
    tool["deployment_id"] = configuration.deployment_id
    document[TOOL_CONFIGURATION] = tool
    document["client_id"] = configuration.client_id
    document["scope"] = " ".join(metadata.scopes)
    return document


# -- approval ------------------------------------------------------------------------------------------

def awaiting_approval(configuration: ToolConfiguration) -> bool:
    return configuration.status == ConfigurationStatus.pending or configuration.pending_update is not None


def approve(configuration: ToolConfiguration) -> dict:
    """Put a pending configuration, or a pending update, in force; the audit changes."""
    if not awaiting_approval(configuration):
        raise ProctorhubError("nothing from this tool is waiting for approval", code="nothing_to_approve",
                              status=409)
    changes = {}
    if configuration.status != ConfigurationStatus.active:
        changes["status"] = [configuration.status, ConfigurationStatus.active.value]
        configuration.status = ConfigurationStatus.active.value
    update_ = configuration.pending_update
    if update_ is not None:
        for key, value in update_["values"].items():
            if getattr(configuration, key) != value:
                changes[key] = [getattr(configuration, key), value]
            setattr(configuration, key, value)
        configuration.registration = update_["registration"]
        configuration.pending_update = None
    return changes


def reject(configuration: ToolConfiguration) -> dict:
    """Refuse what waits: a pending update is dropped (the live values stay); a new tool is ``rejected``."""
    if not awaiting_approval(configuration):
        raise ProctorhubError("nothing from this tool is waiting for approval", code="nothing_to_approve",
                              status=409)
    if configuration.pending_update is not None:
        configuration.pending_update = None
        return {"pending_update": ["filed", "rejected"]}
    configuration.status = ConfigurationStatus.rejected.value
    return {"status": [ConfigurationStatus.pending.value, ConfigurationStatus.rejected.value]}
