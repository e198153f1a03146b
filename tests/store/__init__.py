"""Tests of ferroquant.store."""
