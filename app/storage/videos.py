"""Writing generated videos to disk as MP4 (H.264 through imageio-ffmpeg)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def write_mp4(frames: np.ndarray, fps: int, path: Path) -> Path:
    """Write atomically: a partial file never carries the final name."""
    import imageio.v3 as iio

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.mp4")
    # H.264 needs even sizes; the macro-block size 2 pads odd frames instead of resizing them.
    iio.imwrite(tmp, frames, plugin="FFMPEG", fps=fps, codec="libx264", macro_block_size=2)
    tmp.replace(path)
    return path
