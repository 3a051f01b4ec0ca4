"""Helpers shared by the test suites: a browser-like client, the CLI runner, a real server process."""
