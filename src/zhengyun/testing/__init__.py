"""Test helpers shared by every app's tests: a small two-department world built through the
real services, and API clients authenticated with real personal tokens."""
