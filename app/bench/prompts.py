"""Standard prompt sets, stored as data files in prompt_sets/ (one prompt per line, # comments)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.catalog.spec import validate_prompt
from app.errors import ValidationError

PROMPT_DIR = Path(__file__).with_name("prompt_sets")


def read_prompt_file(path: Path) -> list[str]:
    """Prompts from a text file: one per line; blank lines and # comments are skipped."""
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"Prompts file {path} does not exist", {"path": str(path)})
    prompts = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    prompts = [p for p in prompts if p and not p.startswith("#")]
    if not prompts:
        raise ValidationError(f"Prompts file {path} holds no prompts", {"path": str(path)})
    return [validate_prompt(p) for p in prompts]


class _PromptSets(type):
    """Class attributes load lazily from the data files: StandardPrompts.DIVERSE_SET_V2."""

    available: Callable[[], list[str]]  # StandardPrompts' classmethod (declared so __getattr__ does not type it)

    def __getattr__(cls, name: str) -> list[str]:
        path = PROMPT_DIR / f"{name.lower()}.txt"
        if not path.is_file():
            raise AttributeError(f"No standard prompt set {name}; available: {cls.available()}")
        return read_prompt_file(path)


class StandardPrompts(metaclass=_PromptSets):
    @classmethod
    def available(cls) -> list[str]:
        return sorted(p.stem.upper() for p in PROMPT_DIR.glob("*.txt"))
