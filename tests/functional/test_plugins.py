"""Backend plugins are found through the proctorhub.backends entry-point group, never imported by the core."""

import textwrap

import pytest
from sqlalchemy import select
from stevedore import ExtensionManager
from webtest import TestApp

from proctorhub import main
from proctorhub.backends import BackendStartupError, installed_backend_names
from proctorhub.models import Attempt

from .. import factories as f

PLUGIN = '''
from proctorhub.backends import ReviewBackend
from proctorhub.backends.errors import InvalidPayload


class AcmeBackend(ReviewBackend):
    """A vendor that says "ok" or "cheating"."""

    passing_statuses = frozenset({"passed"})

    def attempt_code(self, payload):
        try:
            return payload["exam"]["code"]
        except (KeyError, TypeError):
            raise InvalidPayload("exam.code is required") from None

    def normalise(self, payload):
        status = {"ok": "passed", "cheating": "violation"}.get(payload.get("verdict"), payload.get("verdict"))
        return {"status": status, "comments": [], "reviewed_by": None}
'''


def install_plugin(path, monkeypatch, name, module_source, entry_point):
    """Install a distribution the way pip lays it out: a module and its .dist-info on sys.path."""
    module = f"{name}_plugin"
    (path / f"{module}.py").write_text(module_source)
    info = path / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        textwrap.dedent(f"""\
            [proctorhub.backends]
            {name} = {module}:{entry_point}
            """)
    )
    monkeypatch.syspath_prepend(str(path))  # also invalidates the import system's caches
    # stevedore remembers each group's entry points for the life of the process (plugins are
    # installed before start-up in real life); a test that installs one mid-process forgets them.
    monkeypatch.setattr(ExtensionManager, "ENTRY_POINT_CACHE", {})


def test_a_newly_installed_plugin_works_without_changing_the_core(tmp_path, monkeypatch, base_settings, dbsession):
    install_plugin(tmp_path, monkeypatch, "acme", PLUGIN, "AcmeBackend")
    assert "acme" in installed_backend_names()
    app = main({}, **{**base_settings, "proctorhub.backends": "rest acme",
                      "proctorhub.backend.acme.secret": "acme-secret"})
    try:
        testapp = TestApp(app)
        attempt = f.attempt(dbsession)
        body, headers = f.signed("acme", {"exam": {"code": attempt.attempt_code}, "verdict": "ok"},
                                 secret="acme-secret")
        answer = testapp.post("/api/v1/reviews/acme", body, headers=headers, status=200).json
        assert answer["backend"] == "acme" and answer["status"] == "passed"
        dbsession.expire_all()
        assert dbsession.execute(select(Attempt.status)).scalar_one() == "verified"
        body, headers = f.signed("acme", {"exam": {"code": attempt.attempt_code}, "verdict": "meh"},
                                 secret="acme-secret")
        bad = testapp.post("/api/v1/reviews/acme", body, headers=headers, status=400).json
        assert bad["error"]["code"] == "bad_review_status"
    finally:
        app.registry["dbengine"].dispose()


def test_a_missing_plugin_stops_startup_naming_what_is_installed(base_settings):
    with pytest.raises(BackendStartupError) as failure:
        main({}, **{**base_settings, "proctorhub.backends": "rest nosuchvendor"})
    message = str(failure.value)
    assert "nosuchvendor" in message and "not installed" in message
    assert "softwaresecure" in message and "rest" in message


def test_a_broken_plugin_stops_startup(tmp_path, monkeypatch, base_settings):
    install_plugin(tmp_path, monkeypatch, "broken", "raise ImportError('vendor SDK missing')\n", "Nothing")
    with pytest.raises(BackendStartupError) as failure:
        main({}, **{**base_settings, "proctorhub.backends": "broken", "proctorhub.backend.broken.secret": "x"})
    assert "broken failed to load" in str(failure.value) and "vendor SDK missing" in str(failure.value)


def test_a_plugin_that_is_not_a_backend_stops_startup(tmp_path, monkeypatch, base_settings):
    install_plugin(tmp_path, monkeypatch, "notabackend", "class Thing:\n    pass\n", "Thing")
    with pytest.raises(BackendStartupError, match="not a proctorhub.backends.ReviewBackend subclass"):
        main({}, **{**base_settings, "proctorhub.backends": "notabackend"})


def test_a_backend_without_a_secret_stops_startup(base_settings):
    settings = {k: v for k, v in base_settings.items() if k != "proctorhub.backend.rest.secret"}
    with pytest.raises(BackendStartupError, match="proctorhub.backend.rest.secret"):
        main({}, **{**settings, "proctorhub.backends": "rest"})


def test_signing_vendors_may_not_be_configured_unsigned(base_settings):
    with pytest.raises(BackendStartupError, match="allow_unsigned is refused"):
        main({}, **{**base_settings, "proctorhub.backends": "rest", "proctorhub.backend.rest.allow_unsigned": "true"})


UNSIGNED_PLUGIN = PLUGIN.replace(
    'passing_statuses = frozenset({"passed"})',
    'passing_statuses = frozenset({"passed"})\n    can_sign = False\n\n'
    '    def external_id(self, payload):\n        return payload.get("record")',
)


def test_unsigned_vendor_needs_the_record_id_check(tmp_path, monkeypatch, base_settings, dbsession):
    install_plugin(tmp_path, monkeypatch, "legacy", UNSIGNED_PLUGIN, "AcmeBackend")
    app = main({}, **{**base_settings, "proctorhub.backends": "legacy",
                      "proctorhub.backend.legacy.allow_unsigned": "true"})
    try:
        testapp = TestApp(app)
        without_id = f.attempt(dbsession, user_id="u-1")
        with_id = f.attempt(dbsession, user_id="u-2", external_id="REC-9")
        refused = testapp.post_json("/api/v1/reviews/legacy", {"exam": {"code": without_id.attempt_code},
                                                              "verdict": "ok"}, status=401).json
        assert refused["error"]["code"] == "external_id_required"
        mismatch = testapp.post_json("/api/v1/reviews/legacy", {"exam": {"code": with_id.attempt_code},
                                                               "verdict": "ok", "record": "REC-1"}, status=409).json
        assert mismatch["error"]["code"] == "external_id_mismatch"
        testapp.post_json("/api/v1/reviews/legacy", {"exam": {"code": with_id.attempt_code}, "verdict": "ok",
                                                     "record": "rec-9"}, status=200)
        dbsession.expire_all()
        assert dbsession.get(Attempt, with_id.id).status == "verified"
        assert dbsession.get(Attempt, without_id.id).status == "submitted"
    finally:
        app.registry["dbengine"].dispose()
