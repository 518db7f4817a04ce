import pytest

from proctorhub.settings import SettingsError, parse_settings


def test_defaults():
    settings = parse_settings({})
    assert settings.allow_review_updates is True
    assert settings.require_failure_second_reviews is True
    assert settings.backends == ()
    assert settings.lti_leeway_seconds == 60 and settings.launch_ttl_seconds == 600


def test_backend_options_and_environment_overrides(monkeypatch):
    monkeypatch.setenv("PROCTORHUB_BACKEND_SOFTWARESECURE_SECRET", "from-env")
    settings = parse_settings({"proctorhub.backends": "softwaresecure\nrest",
                               "proctorhub.backend.softwaresecure.secret": "from-ini",
                               "proctorhub.backend.rest.secret": "r"})
    assert settings.backends == ("softwaresecure", "rest")
    assert settings.options_for("softwaresecure") == {"secret": "from-env"}
    assert settings.options_for("rest") == {"secret": "r"}


@pytest.mark.parametrize(("key", "value"), [("proctorhub.max_body_bytes", "lots"), ("proctorhub.max_body_bytes", "0"),
                                            ("proctorhub.issuer", "platform.test")])
def test_bad_values_stop_startup_with_the_key_named(key, value):
    with pytest.raises(SettingsError, match=key.replace(".", r"\.")):
        parse_settings({key: value})
