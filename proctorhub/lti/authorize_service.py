"""The OIDC authentication request of an LTI launch, as a service taking a database session and
plain values (the view is ``lti.authorize``).

The client and its redirect_uri are checked first: until both are known to be registered, a
refusal is shown as a page, never sent back. Every later refusal goes back to the tool's
redirect_uri with its OAuth error code.

Everything the checks and the id_token need (client, browser session, launch, attempt, exam,
the active signing kid) comes from one joined SELECT as plain values. On PostgreSQL the same
statement also spends the hint and issues the session_data, before the checks run in Python:
a refusal aborts the request's transaction, which takes those writes back. Elsewhere, spending
and issuing are a statement each, after the checks.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, fields

from sqlalchemy import bindparam, func, insert, select, true, update

from ..models import MessageType, digest, utcnow
from ..models.dialect import dialect_of, mark_written
from .browser import BrowserSessionFacts
from .errors import AuthorizationError
from .keys import ACTIVE_KID_COLUMN
from .single_use import spend_row
from .tables import attempt_t, config_t, exam_t, launch_t, session_data_t, session_t


@dataclass(frozen=True)
class ToolConfigurationFacts:
    """The tool the request's client_id names: what the checks and the id_token read of it."""

    id: int
    name: str
    client_id: str
    deployment_id: str
    launch_url: str | None
    end_assessment_url: str | None
    redirect_uris: list
    proctoring_enabled: bool
    acs_actions: list
    custom: dict


@dataclass(frozen=True)
class LaunchExamFacts:
    """The launch's exam, as the id_token names it (resource link, context)."""

    context_id: str
    context_title: str | None
    resource_link_id: str
    resource_link_title: str | None
    name: str


@dataclass(frozen=True)
class LaunchAttemptFacts:
    """The launch's attempt, as the id_token names it (the learner, the attempt's number)."""

    attempt_number: int
    attempt_code: str
    status: str
    user_name: str | None
    user_email: str | None
    user_given_name: str | None
    user_family_name: str | None
    exam: LaunchExamFacts


@dataclass(frozen=True)
class LaunchFacts:
    """The launch the message hint names, with its tool and attempt."""

    id: int
    configuration_id: int
    browser_session_id: int | None
    authorized_at: dt.datetime | None
    expires_at: dt.datetime
    message_type: str
    user_id: str
    user_role: str
    attempt_id: int
    return_url: str
    configuration: ToolConfigurationFacts
    attempt: LaunchAttemptFacts


def _columns(facts, nested=()) -> tuple[str, ...]:
    """The columns the query reads for ``facts``: its fields but the ``nested`` facts."""
    return tuple(field.name for field in fields(facts) if field.name not in nested)


CONFIGURATION_COLUMNS = _columns(ToolConfigurationFacts)
SESSION_COLUMNS = _columns(BrowserSessionFacts)
LAUNCH_COLUMNS = _columns(LaunchFacts, nested=("configuration", "attempt"))
ATTEMPT_COLUMNS = _columns(LaunchAttemptFacts, nested=("exam",))
EXAM_COLUMNS = _columns(LaunchExamFacts)


def _labelled(table, names, prefix):
    return [table.c[name].label(f"{prefix}_{name}") for name in names]


# Built once. The browser session and the launch are LEFT JOINed by their secrets' digests, so a
# missing cookie or an unknown hint still finds the client (and refuses with the right check).
AUTHORIZE_QUERY = (
    select(
        *_labelled(config_t, CONFIGURATION_COLUMNS, "config"),
        *_labelled(session_t, SESSION_COLUMNS, "session"),
        *_labelled(launch_t, LAUNCH_COLUMNS, "launch"),
        *_labelled(attempt_t, ATTEMPT_COLUMNS, "attempt"),
        *_labelled(exam_t, EXAM_COLUMNS, "exam"),
        ACTIVE_KID_COLUMN,
    )
    .select_from(config_t)
    .outerjoin(session_t, session_t.c.cookie_hash == bindparam("cookie_hash"))
    .outerjoin(launch_t, launch_t.c.message_hint_hash == bindparam("hint_hash"))
    .outerjoin(attempt_t, attempt_t.c.id == launch_t.c.attempt_id)
    .outerjoin(exam_t, exam_t.c.id == attempt_t.c.exam_id)
    .where(config_t.c.client_id == bindparam("client_id"))
)
INSERT_SESSION_DATA = insert(session_data_t)
SESSION_DATA_COLUMNS = ("value_hash", "browser_session_id", "launch_id", "attempt_id", "created_at", "expires_at")


def _session_data_own_values(session_ttl_seconds: int, session_data: str) -> dict:
    """The issued session_data's own columns (the launch, attempt and browser session come from
    the rows it belongs to)."""
    now = utcnow()
    return {"value_hash": digest(session_data), "created_at": now,
            "expires_at": now + dt.timedelta(seconds=session_ttl_seconds)}


def _spend_and_issue(dbsession, session_ttl_seconds: int, launch, session_id: int,
                     session_data: str | None) -> bool:
    """Not on PostgreSQL (see ``AUTHORIZE_AND_SPEND``): spend the launch's hint and, with
    ``session_data``, issue it for the launch's attempt to this browser session; whether this
    request spent the hint."""
    if not spend_row(dbsession, launch_t, launch.id, "authorized_at"):
        return False
    if session_data is not None:
        connection = dbsession.connection()
        dialect_of(connection).run(connection, INSERT_SESSION_DATA, {
            **_session_data_own_values(session_ttl_seconds, session_data), "launch_id": launch.id,
            "attempt_id": launch.attempt_id, "browser_session_id": session_id})
    return True


def _authorize_and_spend():
    """PostgreSQL, one round trip: ``AUTHORIZE_QUERY``, which also spends the launch its hint
    names (``UPDATE ... WHERE authorized_at IS NULL``) and, for an ``LtiStartProctoring``
    launch entered by a browser session, issues the session_data. It answers the facts as they
    were before those writes, and whether this request spent the hint (``spent``)."""
    facts = AUTHORIZE_QUERY.cte("facts")
    spent = (
        update(launch_t)
        .where(launch_t.c.id == select(facts.c.launch_id).scalar_subquery(), launch_t.c.authorized_at.is_(None))
        .values(authorized_at=bindparam("spend_now", type_=launch_t.c.authorized_at.type))
        .returning(launch_t.c.id, launch_t.c.attempt_id, launch_t.c.message_type).cte("spent")
    )
    # Parameter names unlike column names: an INSERT's execution takes column-named ones as values.
    sources = {"launch_id": spent.c.id, "attempt_id": spent.c.attempt_id, "browser_session_id": facts.c.session_id}
    values = [sources.get(name, bindparam(f"issue_{name}", type_=session_data_t.c[name].type))
              for name in SESSION_DATA_COLUMNS]
    issued = (
        insert(session_data_t)
        .from_select(list(SESSION_DATA_COLUMNS), select(*values).select_from(spent).join(facts, true()).where(
            spent.c.message_type == MessageType.start_proctoring.value, facts.c.session_id.is_not(None)))
        .returning(session_data_t.c.id).cte("issued")
    )
    return (select(facts, select(func.count()).select_from(spent).scalar_subquery().label("spent"))
            .add_cte(issued))


AUTHORIZE_AND_SPEND = _authorize_and_spend()


def _values(row, prefix: str, names: tuple[str, ...]) -> dict:
    return {name: row[f"{prefix}_{name}"] for name in names}


def _facts(dbsession, cookie_hash: str | None, session_ttl_seconds: int, client_id: str | None, hint: str | None,
           session_data: str):
    """The client, this browser's session, and the launch the hint names (with its attempt and
    exam), as plain values; the active signing kid; and, on PostgreSQL, whether this request
    spent the hint (None elsewhere: the caller spends it after the checks)."""
    if not client_id:
        raise AuthorizationError("unauthorized_client", "client_id is not a registered tool", check="client_id")
    parameters = {"client_id": client_id, "cookie_hash": cookie_hash,
                  "hint_hash": digest(hint) if hint else None}
    # Where the dialect chains writes, the query also spends the hint and issues the session_data.
    chained = dialect_of(dbsession).chains_writes
    if chained:
        parameters["spend_now"] = utcnow()
        parameters.update({f"issue_{name}": value
                           for name, value in _session_data_own_values(session_ttl_seconds, session_data).items()})
    connection = dbsession.connection()
    found = dialect_of(connection).run(connection, AUTHORIZE_AND_SPEND if chained else AUTHORIZE_QUERY, parameters)
    row = found[0] if found else None
    if row is None:
        raise AuthorizationError("unauthorized_client", "client_id is not a registered tool", check="client_id")
    configuration = ToolConfigurationFacts(**_values(row, "config", CONFIGURATION_COLUMNS))
    session = None
    if row["session_id"] is not None and row["session_expires_at"] > utcnow():
        session = BrowserSessionFacts(**_values(row, "session", SESSION_COLUMNS))
    launch = None
    if row["launch_id"] is not None:
        exam = LaunchExamFacts(**_values(row, "exam", EXAM_COLUMNS))
        attempt = LaunchAttemptFacts(**_values(row, "attempt", ATTEMPT_COLUMNS), exam=exam)
        launch = LaunchFacts(**_values(row, "launch", LAUNCH_COLUMNS), configuration=configuration, attempt=attempt)
    spent = None
    if chained:
        spent = bool(row["spent"])
        if spent:
            mark_written(dbsession)
    return configuration, session, launch, row["active_kid"], spent


@dataclass(frozen=True)
class Authorized:
    """An authentication request that passed every check, its hint spent: what the id_token and
    the answer need."""

    launch: LaunchFacts  # its tool is launch.configuration
    redirect_uri: str
    state: str | None
    nonce: str
    session_data: str | None  # issued for an LtiStartProctoring launch
    active_kid: str | None


def authorize(dbsession, params, *, cookie_hash: str | None, session_ttl_seconds: int) -> Authorized:
    """Check the OIDC authentication request ``params`` (a mapping of its query or form), in the
    order DESIGN.md 5.3 gives; spend the launch's hint and issue the session_data. Refusals are
    ``AuthorizationError``s naming the check."""
    hint = params.get("lti_message_hint")
    session_data = secrets.token_urlsafe(32)
    configuration, session, launch, active_kid, spent = _facts(dbsession, cookie_hash, session_ttl_seconds,
                                                               params.get("client_id"), hint, session_data)
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri or redirect_uri not in (configuration.redirect_uris or []):
        raise AuthorizationError("invalid_request", "redirect_uri is not one of the tool's registered redirect URIs",
                                 check="redirect_uri")
    state = params.get("state")

    def refuse(code: str, message: str, check: str) -> AuthorizationError:
        return AuthorizationError(code, message, check=check, redirect_uri=redirect_uri, state=state)

    if not configuration.proctoring_enabled:
        raise refuse("unauthorized_client", "proctoring is not enabled for this tool", "proctoring_enabled")
    if "openid" not in (params.get("scope") or "").split():
        raise refuse("invalid_scope", "scope must be openid", "scope")
    if params.get("response_type") != "id_token":
        raise refuse("unsupported_response_type", "response_type must be id_token", "response_type")
    if params.get("response_mode") != "form_post":
        raise refuse("invalid_request", "response_mode must be form_post", "response_mode")
    if params.get("prompt") != "none":
        raise refuse("invalid_request", "prompt must be none", "prompt")
    nonce = params.get("nonce")
    if not nonce:
        raise refuse("invalid_request", "nonce is missing", "nonce")
    if session is None:
        raise refuse("access_denied", "this browser has not entered a launch (no session cookie)", "browser_session")
    if not params.get("login_hint"):
        raise refuse("invalid_request", "login_hint is missing", "login_hint")
    if params.get("login_hint") != session.user_id:
        raise refuse("access_denied", "login_hint is not the user of this browser session", "login_hint")
    if not hint:
        raise refuse("invalid_request", "lti_message_hint is missing", "lti_message_hint")
    if launch is None or launch.configuration_id != configuration.id:
        raise refuse("invalid_request", "lti_message_hint names no launch of this client", "lti_message_hint")
    if launch.authorized_at is not None:
        raise refuse("invalid_request", "lti_message_hint was used already", "lti_message_hint_used")
    if launch.expires_at <= utcnow():
        raise refuse("invalid_request", "lti_message_hint has expired", "lti_message_hint_expired")
    if launch.browser_session_id != session.id:
        raise refuse("access_denied", "the launch was entered by another browser", "browser_session")

    if launch.message_type != MessageType.start_proctoring:
        session_data = None
    if spent is None:
        spent = _spend_and_issue(dbsession, session_ttl_seconds, launch, session.id, session_data)
    if not spent:
        raise refuse("invalid_request", "lti_message_hint was used already", "lti_message_hint_used")
    return Authorized(launch=launch, redirect_uri=redirect_uri, state=state,
                      nonce=nonce, session_data=session_data, active_kid=active_kid)
