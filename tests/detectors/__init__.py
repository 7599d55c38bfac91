"""Tests of the personal-data detectors (`inboxwarden.detectors`)."""
