"""Exams and attempts: finding, creating, archiving, and moving attempts through their lifecycle."""
