"""Claim names of LTI 1.3 Core and Proctoring Services 1.0."""

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AP = "https://purl.imsglobal.org/spec/lti-ap/claim/"

MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
TARGET_LINK_URI = LTI + "target_link_uri"
ROLES = LTI + "roles"
RESOURCE_LINK = LTI + "resource_link"
CONTEXT = LTI + "context"
LAUNCH_PRESENTATION = LTI + "launch_presentation"
TOOL_PLATFORM = LTI + "tool_platform"
CUSTOM = LTI + "custom"

ATTEMPT_NUMBER = AP + "attempt_number"
START_ASSESSMENT_URL = AP + "start_assessment_url"
SESSION_DATA = AP + "session_data"
ACS = AP + "acs"
END_ASSESSMENT_RETURN = AP + "end_assessment_return"
VERIFIED_USER = AP + "verified_user"
ERRORMSG = AP + "errormsg"
ERRORLOG = AP + "errorlog"

LTI_VERSION = "1.3.0"
START_ASSESSMENT = "LtiStartAssessment"
ACS_SCOPE = "https://purl.imsglobal.org/spec/lti-ap/scope/control.all"

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
# Short role names an LMS may send to the launch API (LIS names, and the names Open edX's
# launch data uses: student, staff, guest), and the LIS role each stands for.
ROLE_NAMES = {
    "learner": MEMBERSHIP + "Learner",
    "student": MEMBERSHIP + "Learner",
    "guest": MEMBERSHIP + "Learner",
    "instructor": MEMBERSHIP + "Instructor",
    "staff": MEMBERSHIP + "Instructor",
    "mentor": MEMBERSHIP + "Mentor",
    "administrator": MEMBERSHIP + "Administrator",
    "contentdeveloper": MEMBERSHIP + "ContentDeveloper",
    "teachingassistant": MEMBERSHIP + "Instructor#TeachingAssistant",
}
