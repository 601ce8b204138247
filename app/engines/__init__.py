"""Engines: load a catalog model and generate, one modality per file. No Ray here."""
