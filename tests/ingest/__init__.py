"""Tests of ferroquant.ingest."""
