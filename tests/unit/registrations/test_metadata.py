"""Reading a tool's registration request: the domain rule, the grant types, what is kept."""

from __future__ import annotations

import pytest

from proctorhub.registrations.metadata import (
    RegistrationRefused,
    _domain_parts,
    _in_domain,
    read_tool_metadata,
)

from ...functional.registration_helpers import ACS_SCOPE, spec_request, tool_configuration


@pytest.mark.parametrize(("domain", "parts"), [
    ("client.example.org", ("client.example.org", None)),
    ("Client.Example.org:8443", ("client.example.org", 8443)),
    ("localhost:6544", ("localhost", 6544)),
    ("[::1]:6544", ("::1", 6544)),
    ("https://client.example.org", None),
    ("client.example.org/lti", None),
    (".example.org", None),
    ("user@client.example.org", None),
    ("client.example.org:99999", None),
    ("", None),
])
def test_domain_parts(domain, parts):
    assert _domain_parts(domain) == parts


@pytest.mark.parametrize(("url", "domain", "inside"), [
    ("https://client.example.org/lti", ("client.example.org", None), True),
    ("https://eu.client.example.org/lti", ("client.example.org", None), True),
    ("https://evilclient.example.org/lti", ("client.example.org", None), False),
    ("https://client.example.org.evil.test/lti", ("client.example.org", None), False),
    ("https://client.example.org/lti", ("client.example.org", 443), True),
    ("https://client.example.org:8443/lti", ("client.example.org", 443), False),
    ("http://localhost:6544/launch", ("localhost", 6544), True),
])
def test_urls_must_be_in_the_domain(url, domain, inside):
    assert _in_domain(url, *domain) is inside


def test_the_specification_example_reads_with_its_implict_spelling_and_keeps_everything():
    metadata = read_tool_metadata(spec_request())
    assert metadata.client_name == "Virtual Garden" and metadata.scopes == (ACS_SCOPE,) and metadata.wants_acs
    assert metadata.launch_url == "https://client.example.org/lti"
    assert metadata.document["client_name#ja"] == "バーチャルガーデン"
    assert set(metadata.fetched_urls) == {"https://client.example.org/lti", "https://client.example.org/callback",
                                          "https://client.example.org/callback2",
                                          "https://client.example.org/.well-known/jwks.json"}


def test_the_launch_url_is_the_start_proctoring_message_target_or_the_tool_target():
    tool = tool_configuration(messages=[{"type": "LtiStartProctoring"}])
    assert read_tool_metadata(spec_request(tool=tool)).launch_url == "https://client.example.org/lti"
    tool = tool_configuration(messages=[{"type": "LtiStartProctoring",
                                         "target_link_uri": "https://client.example.org/proctor"}])
    assert read_tool_metadata(spec_request(tool=tool)).launch_url == "https://client.example.org/proctor"


@pytest.mark.parametrize(("changes", "code"), [
    ({"scope": "openid openid"}, None),
    ({"client_name": ["a list"]}, "invalid_client_metadata"),
    ({"tool": tool_configuration(messages=[{"type": "LtiStartProctoring"}, {"type": "LtiStartProctoring"}])},
     "invalid_client_metadata"),
    ({"tool": tool_configuration(custom_parameters={"x": 1})}, "invalid_client_metadata"),
    ({"tool": tool_configuration(domain="client.example.org/path")}, "invalid_client_metadata"),
])
def test_more_refusals(changes, code):
    if code is None:
        assert read_tool_metadata(spec_request(**changes)).scopes == ("openid",)
        return
    with pytest.raises(RegistrationRefused) as refused:
        read_tool_metadata(spec_request(**changes))
    assert refused.value.code == code
