"""Grading for the course: the learner's workspace and self-check, and the instructor's
nbgrader round trip (release, collect, autograde, feedback, export). Run ``python -m grading``."""
