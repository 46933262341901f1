"""Errors the ingestion library raises for whole-file problems."""

from __future__ import annotations


class FileRejected(Exception):
    """The whole file cannot be loaded; ``message`` names the file and the problem in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
