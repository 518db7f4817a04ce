"""Claim names of LTI 1.3 Core and 1EdTech Proctoring Services 1.0, as the tool reads and writes them.

The tool keeps its own copy rather than importing proctorhub's: it stands for a vendor that
only knows the specification, so the end-to-end test checks the two sides against each other.
"""

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AP = "https://purl.imsglobal.org/spec/lti-ap/claim/"

MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
TARGET_LINK_URI = LTI + "target_link_uri"
RESOURCE_LINK = LTI + "resource_link"
ROLES = LTI + "roles"
CONTEXT = LTI + "context"
CUSTOM = LTI + "custom"

ATTEMPT_NUMBER = AP + "attempt_number"
SESSION_DATA = AP + "session_data"
START_ASSESSMENT_URL = AP + "start_assessment_url"
END_ASSESSMENT_RETURN = AP + "end_assessment_return"
VERIFIED_USER = AP + "verified_user"
ACS = AP + "acs"

LTI_VERSION = "1.3.0"
START_PROCTORING = "LtiStartProctoring"
START_ASSESSMENT = "LtiStartAssessment"
END_ASSESSMENT = "LtiEndAssessment"
