"""The tool's ``LtiStartAssessment`` starts the attempt: the checks and writes of
``POST /lti/start-assessment`` as a service taking a database session and plain values (the view
is ``lti.start_assessment``).

Every check of DESIGN.md 5.3 runs before anything changes; a refusal is a 400 whose code names
the failed check, and its transaction is aborted, so nothing it touched (the replay ledger
included) is kept.
"""

from __future__ import annotations

import functools
import hmac

from sqlalchemy import and_, bindparam, func, select

from ..models import Attempt, AttemptStatus, digest, utcnow
from ..models.dialect import dialect_of
from . import claims as c
from .errors import LtiError
from .replay import entries_to_remember, remembered_once, remembering_cte, remembering_parameters
from .single_use import spend_then_move
from .tables import attempt_t, config_t, exam_t, launch_t, session_data_t, session_t
from .tokens import unverified_header_and_claims, verify
from .tool_keys import tool_public_key

REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "nonce"]

# Built once. The tool (by the JWT's unverified iss), this browser's live session (by the cookie's
# digest) and every session_data issued to it, with its launch, attempt and exam: one statement,
# one row per session_data (one row of NULLs past the tool's columns when there is none).
START_QUERY = (
    select(
        config_t.c.id.label("config_id"), config_t.c.client_id, config_t.c.deployment_id, config_t.c.jwks_url,
        config_t.c.public_key_pem,
        session_t.c.id.label("session_id"),
        session_data_t.c.id.label("session_data_id"), session_data_t.c.value_hash, session_data_t.c.used_at,
        session_data_t.c.expires_at,
        launch_t.c.configuration_id.label("launch_configuration_id"), launch_t.c.return_url,
        attempt_t.c.id.label("attempt_id"), attempt_t.c.attempt_code, attempt_t.c.attempt_number,
        attempt_t.c.status, attempt_t.c.started_at, exam_t.c.resource_link_id,
    )
    .select_from(config_t)
    .outerjoin(session_t, and_(session_t.c.cookie_hash == bindparam("cookie_hash"),
                               session_t.c.expires_at > bindparam("now")))
    .outerjoin(session_data_t, session_data_t.c.browser_session_id == session_t.c.id)
    .outerjoin(launch_t, launch_t.c.id == session_data_t.c.launch_id)
    .outerjoin(attempt_t, attempt_t.c.id == session_data_t.c.attempt_id)
    .outerjoin(exam_t, exam_t.c.id == attempt_t.c.exam_id)
    .where(config_t.c.client_id == bindparam("client_id"))
)


@functools.cache
def _start_query_remembering(dialect, count: int):
    """Where the dialect chains writes: ``START_QUERY`` that also inserts ``count`` replay ledger
    entries and answers which kinds it inserted (``remembered``)."""
    remembered = remembering_cte(dialect, count)
    return START_QUERY.add_columns(
        select(func.array_agg(remembered.c.kind)).scalar_subquery().label("remembered"))


def _matching_session_data(claims, rows):
    """The session_data row this browser session was issued and the token names (used or not)."""
    value = claims.get(c.SESSION_DATA)
    if not isinstance(value, str) or not value:
        raise LtiError("session_data is missing", code="session_data_mismatch")
    if rows[0].session_id is None:  # no cookie, or none of a live session
        raise LtiError("this browser has no launch session (cookie missing or expired)", code="missing_browser_session")
    presented = digest(value)
    issued = [row for row in rows if row.session_data_id is not None]
    # Compared in constant time against every session_data issued to this browser session.
    match = next((row for row in issued if hmac.compare_digest(row.value_hash, presented)), None)
    if match is None:
        raise LtiError("session_data is not the one issued to this browser session", code="session_data_mismatch")
    return match


def _issued_session_data(claims, rows):
    match = _matching_session_data(claims, rows)
    if match.used_at is not None:
        raise LtiError("session_data was used already", code="session_data_used")
    if match.expires_at <= utcnow():
        raise LtiError("session_data has expired", code="session_data_expired")
    return match


def start(dbsession, token: str, *, cookie_hash: str | None, app_settings) -> str:
    """Verify the ``LtiStartAssessment`` JWT ``token`` posted by the browser whose session cookie
    has ``cookie_hash``; start the attempt (a running or paused one stays as it is) and spend the
    session_data. Answers the LMS return URL the browser goes back to; a refusal is an
    ``LtiError`` naming the failed check, written nothing."""
    header, unverified = unverified_header_and_claims(token)
    leeway = app_settings.lti_leeway_seconds
    parameters = {"client_id": unverified["iss"], "cookie_hash": cookie_hash, "now": utcnow()}
    dialect = dialect_of(dbsession)
    entries = []
    query = START_QUERY
    if dialect.chains_writes:
        # One round trip fewer: the first query also records the nonce and jti (see replay.py).
        entries = entries_to_remember(dbsession, unverified, issuer=unverified["iss"], leeway=leeway)
        if entries:
            query = _start_query_remembering(dialect, len(entries))
            parameters.update(remembering_parameters(entries))
    connection = dbsession.connection()
    rows = dialect.rows(connection, query, parameters)
    if not rows:
        raise LtiError("the JWT's iss is not the client_id of a registered tool", code="invalid_issuer")
    configuration = rows[0]
    remembered = configuration.remembered if entries else None
    # Before any key is fetched from the tool: only a browser in a live launch session, holding
    # a session_data issued to it, can make proctorhub call the tool's server.
    _matching_session_data(unverified, rows)
    key = tool_public_key(configuration, header.get("kid"), app_settings)
    claims = verify(token, key, audience=app_settings.issuer, issuer=configuration.client_id,
                    leeway=leeway, required=REQUIRED_CLAIMS)
    remembered_once(dbsession, issuer=configuration.client_id, kind="nonce", value=claims.get("nonce"),
                    exp=claims["exp"], leeway=leeway, entries=entries, remembered=remembered)
    if "jti" in claims:
        remembered_once(dbsession, issuer=configuration.client_id, kind="jti", value=claims["jti"],
                        exp=claims["exp"], leeway=leeway, entries=entries, remembered=remembered)
    if claims.get(c.MESSAGE_TYPE) != c.START_ASSESSMENT:
        raise LtiError("message_type must be LtiStartAssessment", code="invalid_message_type")
    if claims.get(c.VERSION) != c.LTI_VERSION:
        raise LtiError("version must be 1.3.0", code="invalid_version")
    if claims.get(c.DEPLOYMENT_ID) != configuration.deployment_id:
        raise LtiError("deployment_id is not the tool's deployment", code="invalid_deployment_id")
    issued = _issued_session_data(claims, rows)
    if issued.launch_configuration_id != configuration.config_id:
        raise LtiError("session_data was issued to another tool", code="session_data_mismatch")
    attempt_number = claims.get(c.ATTEMPT_NUMBER)
    # An integer, as the launch's is: Python holds true and 1.0 equal to 1.
    if type(attempt_number) is not int or attempt_number != issued.attempt_number:
        raise LtiError("attempt_number is not the launch's", code="attempt_number_mismatch",
                       details={"expected": issued.attempt_number})
    resource_link = claims.get(c.RESOURCE_LINK)
    if not isinstance(resource_link, dict) or resource_link.get("id") != issued.resource_link_id:
        raise LtiError("resource_link.id is not the launch's", code="resource_link_mismatch")

    verified_user = claims.get(c.VERIFIED_USER)
    outcome = {"end_assessment_return": claims.get(c.END_ASSESSMENT_RETURN) is True,
               "verified_user": verified_user if isinstance(verified_user, dict) else None}
    move = {"attempt_id": issued.attempt_id, "attempt_code": issued.attempt_code, "old": issued.status,
            "started_at": issued.started_at, "new": AttemptStatus.started, "reason": "LtiStartAssessment",
            "also": outcome}
    running = issued.status in (AttemptStatus.started, AttemptStatus.paused)
    if not spend_then_move(dbsession, session_data_t, issued.session_data_id, "used_at",
                           move=None if running else move):
        raise LtiError("session_data was used already", code="session_data_used")
    if running:
        # Started already (a relaunch after a crash): the status and the clock stay as they are
        # (a paused attempt stays paused until the tool resumes it); only what this message says
        # changes, through the ORM, which writes nothing when it says the same.
        attempt = dbsession.get(Attempt, issued.attempt_id)
        for column, value in outcome.items():
            setattr(attempt, column, value)
    return issued.return_url
