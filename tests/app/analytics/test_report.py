"""The PDF report, rendered to PNG with pdftoppm (Debian poppler-utils): expected pages, none blank."""

import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from app.analytics.report import collect, expected_pages, write_report
from app.errors import ValidationError
from tests.app.analytics.artifacts import artifact_dir

pytestmark = pytest.mark.slow  # the seeded database runs real tiny benchmarks


def test_report_pages_render_and_are_not_blank(seeded, tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm is not installed (Debian package poppler-utils; scripts/setup.sh installs it)")
    models = ["tiny-t2v@num_inference_steps=1", "tiny-t2v@num_inference_steps=8"]
    data = collect(seeded.analytics, models, "24h", "temporal_consistency", resamples=200)
    assert data["monitored"] and data["pareto"]["objectives"] == ["temporal_consistency", "avg_latency_ms"]
    pdf = tmp_path / "report.pdf"
    pages = write_report(data, pdf)
    assert pages == expected_pages(data) == 6  # summary, Pareto, CIs, trends, resources, provenance
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(tmp_path / "page")], check=True)
    rendered = sorted(tmp_path.glob("page-*.png"))
    assert len(rendered) == pages
    for png in rendered:
        pixels = np.asarray(Image.open(png).convert("L"), dtype=np.float64)
        assert (pixels < 200).mean() > 0.005, f"{png.name} is blank"  # ink on the page, not just white
    out = artifact_dir()
    shutil.copy(pdf, out / "analytics_report.pdf")
    for png in rendered:
        shutil.copy(png, out / f"analytics_report-{png.name}")


def test_report_summary_matches_the_statistics(seeded):
    data = collect(seeded.analytics, ["tiny-t2v@num_inference_steps=8"], None, "temporal_consistency", resamples=200)
    values = [v.metrics["temporal_consistency"] for v in seeded.repo.videos(seeded.ids["t2v_8step"])]
    summary = data["per_figure"]["temporal_consistency"]["tiny-t2v@num_inference_steps=8"]
    assert summary["mean"] == pytest.approx(np.mean(values)) and summary["n"] == len(values) == 8
    assert summary["low"] < summary["mean"] < summary["high"]


def test_report_of_nothing_is_refused(seeded):
    with pytest.raises(ValidationError, match="No completed benchmark"):
        collect(seeded.analytics, ["tiny-t2i"], "24h", "overall_score")
