"""Streaming benchmarks: clips generated back to back against a playback clock, with adaptive quality.

Pure parts (no Ray, no I/O): ``ladder`` (quality rungs from the catalog), ``controller`` (BBA-0 rung choice),
``playback`` (the buffer drained by the clock), ``metrics``. ``session`` runs the loop over any clip
generator; ``runner`` puts the model in a Ray actor and stores everything as it happens.
"""
