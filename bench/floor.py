"""The floor: a bare Pyramid app on proctorhub's stack, doing the least a request can do.

Same engine and SQLite pragmas (``proctorhub.models.get_engine``), same session factory,
pyramid_tm + zope.sqlalchemy with the request's transaction manager, pyramid_retry, and the
same waitress thread count (the harness serves both). Its views:

- ``POST /floor/row``: inserts one row holding the request body, answers JSON;
- ``POST /floor/jwt``: the same, plus one RS256 signature and one verification with PyJWT
  (the floor of an LTI launch's round trips; the key is parsed once at start-up);
- ``POST /floor/acs``: verifies the RS256 bearer token that ``GET /floor/token`` hands out
  (audience, issuer, expiry) and runs one conditional UPDATE of a ``bench_floor_state`` row
  (the floor of an ACS action).

A subject that reaches half of this floor's rate spends no more on its own work than the
stack already spends on one insert.
"""

from __future__ import annotations

import time

import jwt
import sqlalchemy as sa
import zope.sqlalchemy
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pyramid.config import Configurator
from pyramid.view import view_config

from proctorhub.models import get_engine, get_session_factory, get_tm_session, utcnow
from proctorhub.models.meta import UTCDateTime

floor_metadata = sa.MetaData()

floor_row = sa.Table(
    "bench_floor_row",
    floor_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

floor_state = sa.Table(
    "bench_floor_state",
    floor_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("status", sa.String(32), nullable=False),
)

FLOOR_ISSUER = "http://floor.bench"
FLOOR_TOKEN_AUDIENCE = "http://floor.bench/acs"
PAUSE = floor_state.update().where(floor_state.c.id == sa.bindparam("row_id"),
                                   floor_state.c.status == "started").values(status="paused")


def _store(request) -> int:
    result = request.dbsession.execute(
        floor_row.insert().values(body=request.body.decode("utf-8", "replace"), created_at=utcnow())
    )
    return result.inserted_primary_key[0]


@view_config(route_name="floor.row", request_method="POST", renderer="json")
def insert_row(request):
    return {"id": _store(request)}


@view_config(route_name="floor.jwt", request_method="POST", renderer="json")
def insert_row_sign_verify(request):
    keys = request.registry["floor_keys"]
    now = int(time.time())
    token = jwt.encode({"iss": FLOOR_ISSUER, "aud": "tool", "iat": now, "exp": now + 300, "nonce": str(now)},
                       keys["private"], algorithm="RS256", headers={"kid": "floor"})
    claims = jwt.decode(token, keys["public"], algorithms=["RS256"], audience="tool", issuer=FLOOR_ISSUER,
                        leeway=60, options={"require": ["iss", "aud", "iat", "exp", "nonce"]})
    return {"id": _store(request), "iat": claims["iat"]}


@view_config(route_name="floor.token", request_method="GET", renderer="json")
def hand_out_token(request):
    now = int(time.time())
    token = jwt.encode({"iss": FLOOR_ISSUER, "aud": FLOOR_TOKEN_AUDIENCE, "sub": "tool", "scope": "acs",
                        "iat": now, "exp": now + 3600}, request.registry["floor_keys"]["private"],
                       algorithm="RS256", headers={"kid": "floor"})
    return {"token": token}


@view_config(route_name="floor.acs", request_method="POST", renderer="json")
def check_token_and_update(request):
    token = request.headers["Authorization"].split(" ", 1)[1]
    claims = jwt.decode(token, request.registry["floor_keys"]["public"], algorithms=["RS256"],
                        audience=FLOOR_TOKEN_AUDIENCE, issuer=FLOOR_ISSUER, leeway=60,
                        options={"require": ["iss", "aud", "sub", "exp", "iat", "scope"]})
    changed = request.dbsession.execute(PAUSE, {"row_id": request.json_body["id"]}).rowcount
    zope.sqlalchemy.mark_changed(request.dbsession)
    return {"changed": changed, "sub": claims["sub"]}


def _keys() -> dict:
    # Parsed once, as proctorhub must: loading a PEM costs far more than a signature.
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    loaded = serialization.load_pem_private_key(pem, password=None)
    return {"private": loaded, "public": loaded.public_key()}


def main(global_config, **settings):
    """The floor app (``paste.app_factory`` shape, served by ``bench.serve``)."""
    with Configurator(settings=settings) as config:
        settings = config.get_settings()
        settings["tm.manager_hook"] = "pyramid_tm.explicit_manager"
        config.include("pyramid_tm")
        settings.setdefault("retry.attempts", "3")
        config.include("pyramid_retry")
        engine = get_engine(settings)
        floor_metadata.create_all(engine)
        session_factory = get_session_factory(engine)
        config.add_request_method(
            lambda request: get_tm_session(session_factory, request.tm, request=request), "dbsession", reify=True
        )
        config.registry["floor_keys"] = _keys()
        config.add_route("floor.row", "/floor/row")
        config.add_route("floor.jwt", "/floor/jwt")
        config.add_route("floor.token", "/floor/token")
        config.add_route("floor.acs", "/floor/acs")
        config.scan(__name__)
    return config.make_wsgi_app()
