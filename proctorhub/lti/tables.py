"""The tables the LTI steps read and write with Core statements (no ORM objects on the launch's
hot path), named once for every module that builds those statements."""

from ..models import Attempt, BrowserSession, Exam, Launch, Lms, ReplayEntry, SessionData, ToolConfiguration

attempt_t = Attempt.__table__
config_t = ToolConfiguration.__table__
exam_t = Exam.__table__
launch_t = Launch.__table__
lms_t = Lms.__table__
ledger_t = ReplayEntry.__table__
session_t = BrowserSession.__table__
session_data_t = SessionData.__table__
