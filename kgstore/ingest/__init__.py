"""Ingest runs (session, progress, quarantine, bulk load); readers in sources/, writers in write/"""
