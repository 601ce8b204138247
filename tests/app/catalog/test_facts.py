"""Catalog facts: capabilities, compute capability, the checkpoint's files, dependency pins, and the
references' ways of writing sizes and durations."""

from app.catalog import get_catalog
from app.catalog.facts import (
    capabilities,
    checkpoint_dir,
    cuda_capability,
    dependency_problems,
    human_bytes,
    human_duration,
    local_files,
)


def test_capabilities_and_cuda_capability_follow_the_catalog():
    catalog = get_catalog()
    assert capabilities(catalog.get("tiny-t2i")) == ["text-to-image"]
    assert cuda_capability(catalog.get("tiny-t2v")) == "5.0"  # fp32
    fp16 = next(spec for spec in catalog.list() if spec.requirements.precision == "fp16")
    assert cuda_capability(fp16) == "5.3"


def test_files_of_a_hub_model_are_counted_once(tmp_path):
    spec = get_catalog().get("svd-xt")
    directory = checkpoint_dir(spec, tmp_path)
    assert directory == tmp_path / "hub" / "models--stabilityai--stable-video-diffusion-img2vid-xt-1-1"
    assert local_files(spec, tmp_path).reason == "not downloaded (or built) on this machine yet"
    (directory / "blobs").mkdir(parents=True)
    (directory / "snapshots" / "abc").mkdir(parents=True)
    (directory / "blobs" / "sha").write_bytes(b"\0" * 2048)
    (directory / "snapshots" / "abc" / "model.safetensors").symlink_to(directory / "blobs" / "sha")
    files = local_files(spec, tmp_path)
    assert files.size_bytes == 2048 and files.reason is None and files.created_at == files.updated_at


def test_dependency_pins_are_checked_against_installed_versions():
    spec = get_catalog().get("tiny-t2i")
    assert dependency_problems(spec) == []
    pinned = spec.model_copy(
        update={
            "requirements": spec.requirements.model_copy(
                update={"dependencies": ["diffusers>=999", "no-such-package-xyz", "not a requirement!"]}
            )
        }
    )
    problems = dependency_problems(pinned)
    assert problems[0].startswith("diffusers>=999: ") and problems[1].endswith("not installed")
    assert problems[2].endswith("not a valid requirement")


def test_sizes_and_durations_as_the_references_write_them():
    assert human_bytes(None) is None and human_bytes(512) == "512 B" and human_bytes(6.9 * 2**30) == "6.9 GB"
    assert human_duration(2.5) == "2.5s" and human_duration(260) == "4m 20s"
    assert human_duration(7 * 86400 + 4 * 3600 + 23 * 60) == "7d 4h 23m" and human_duration(3 * 3600 + 60) == "3h 1m"
