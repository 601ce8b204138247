"""Text generation with a transformers causal LM, streamed token by token.

  1. validate prompt and sampling parameters against the catalog (before loading);
  2. load tokenizer + model once (``from_pretrained``; built-in models are saved first);
  3. generate in a background thread, reading decoded text pieces from a
     ``TextIteratorStreamer`` as they are produced;
  4. stop at EOS, at ``max_tokens``, or when a stop sequence appears (the stop
     sequence itself is not returned); say which in ``finish_reason``.
A failed allocation while generating is InsufficientMemoryError (INSUFFICIENT_MEMORY), as in the other engines.
temperature 0 means greedy decoding; a seed makes sampling reproducible.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.catalog.spec import ModelSpec, check_ranges, validate_prompt
from app.engines.loading import EngineBase, checkpoint_location, load_failures
from app.engines.memory import out_of_memory_as_typed
from app.engines.optimization import OptimizationProfile, resolve_device
from app.errors import ModelLoadError, ValidationError


@dataclass
class TextRequest:
    prompt: str
    max_tokens: int
    temperature: float
    top_p: float
    top_k: int
    stop: list[str] = field(default_factory=list)
    seed: int | None = None


@dataclass
class TextResult:
    text: str
    tokens_generated: int
    finish_reason: str  # "stop" (stop sequence or EOS) | "length"
    prompt_tokens: int
    seconds: float


class TextEngine(EngineBase):
    modality = "text"
    name = "transformers"

    def __init__(
        self,
        spec: ModelSpec,
        device: str = "auto",
        profile: str | OptimizationProfile | None = None,
        models_dir: Path | None = None,
    ):
        super().__init__(spec, device, profile, models_dir)
        self.model: Any = None
        self.tokenizer: Any = None

    def request(
        self,
        prompt: str,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        stop: list[str] | None = None,
        seed: int | None = None,
    ) -> TextRequest:
        """Step 1: a validated request with catalog defaults filled in."""
        validate_prompt(prompt)
        values = check_ranges(
            self.spec, {"max_tokens": max_tokens, "temperature": temperature, "top_p": top_p, "top_k": top_k}
        )
        if stop is not None and (len(stop) > 4 or not all(isinstance(s, str) for s in stop) or "" in stop):
            raise ValidationError("stop takes up to 4 non-empty strings", {"stop": stop})
        return TextRequest(
            prompt=prompt,
            max_tokens=int(values["max_tokens"]),
            temperature=float(values["temperature"]),
            top_p=float(values["top_p"]),
            top_k=int(values["top_k"]),
            stop=list(stop or []),
            seed=seed,
        )

    def load(self) -> float:
        if self.model is None:
            from transformers import AutoModelForCausalLM, AutoTokenizer

            self.check_memory()
            location = checkpoint_location(self.spec, self.models_dir)
            started = time.perf_counter()
            with load_failures(self.spec, location):
                self.tokenizer = AutoTokenizer.from_pretrained(location, cache_dir=str(self.models_dir / "hub"))
                self.model = AutoModelForCausalLM.from_pretrained(
                    location, dtype=self.profile.torch_dtype(), cache_dir=str(self.models_dir / "hub")
                ).to(self.device)
            self.model.eval()
            self.load_s = time.perf_counter() - started
        assert self.load_s is not None  # set by the first load
        return self.load_s

    def context_length(self) -> int | None:
        """Positions the loaded model can attend to (prompt and generated tokens together)."""
        config = self.model.config
        return (
            getattr(config, "max_position_embeddings", None)
            or getattr(config, "n_positions", None)
            or self.spec.max_context_length
        )

    def fit_to_context(self, prompt_tokens: int, max_tokens: int) -> int:
        """The new tokens the context leaves room for (at most ``max_tokens``); a prompt that fills the context
        alone is a ValidationError naming the limit, not an index error deep in the model."""
        context = self.context_length()
        if context is None:
            return max_tokens
        if prompt_tokens >= context:
            raise ValidationError(
                f"The prompt is {prompt_tokens} tokens; {self.spec.name} reads at most {context} tokens, prompt and "
                "answer together: shorten the prompt",
                {"model_name": self.spec.name, "prompt_tokens": prompt_tokens, "max_context_length": context},
            )
        return min(max_tokens, context - prompt_tokens)

    def stream(self, req: TextRequest) -> Generator[str, None, TextResult]:
        """Yield text pieces as they are generated; the final TextResult is the generator's return value."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        self.load()
        inputs = self.tokenizer(req.prompt, return_tensors="pt").to(self.device)
        prompt_tokens = int(inputs["input_ids"].shape[1])
        max_new_tokens = self.fit_to_context(prompt_tokens, req.max_tokens)
        streamer = _TokenStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        stop_flag = threading.Event()

        class _StopWhenAsked(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return stop_flag.is_set()

        kwargs: dict[str, Any] = {
            **inputs,
            "max_new_tokens": max_new_tokens,
            "streamer": streamer,
            "stopping_criteria": StoppingCriteriaList([_StopWhenAsked()]),
            "pad_token_id": self.tokenizer.eos_token_id,
        }
        if req.temperature > 0:
            kwargs.update(do_sample=True, temperature=req.temperature, top_p=req.top_p, top_k=req.top_k)
        else:
            kwargs.update(do_sample=False)
        generated: dict[str, Any] = {}
        errors: list[BaseException] = []

        def worker():
            try:
                if req.seed is not None:
                    torch.manual_seed(req.seed)
                with torch.inference_mode(), out_of_memory_as_typed(self.spec, self.device):
                    generated["ids"] = self.model.generate(**kwargs)
            except BaseException as exc:  # noqa: BLE001 - surfaced in the caller's thread below (OOM typed)
                errors.append(exc)
                streamer.end()

        started = time.perf_counter()
        thread = threading.Thread(target=worker, daemon=True)
        thread.start()
        text, emitted, finish = "", 0, None
        for piece in streamer:
            text += piece
            cut = _first_stop(text, req.stop)
            if cut is not None:
                stop_flag.set()
                if cut > emitted:
                    yield text[emitted:cut]
                text, emitted, finish = text[:cut], cut, "stop"
                break
            # hold back a tail that could be the start of a stop sequence
            safe = len(text) - _partial_stop_len(text, req.stop)
            if safe > emitted:
                yield text[emitted:safe]
                emitted = safe
        if finish == "stop":  # stopped early: drain so the generate thread can finish
            for _ in streamer:
                pass
        thread.join()
        if errors:
            raise errors[0]
        if finish is None and len(text) > emitted:
            yield text[emitted:]
        new_tokens = int(generated["ids"].shape[1] - prompt_tokens) if "ids" in generated else 0
        if finish is None:
            finish = "length" if new_tokens >= max_new_tokens else "stop"
        return TextResult(
            text=text,
            tokens_generated=new_tokens,
            finish_reason=finish,
            prompt_tokens=prompt_tokens,
            seconds=time.perf_counter() - started,
        )

    def generate(self, req: TextRequest) -> TextResult:
        return TextStream(self.stream(req)).drain()


class TextStream:
    """An engine's text stream that keeps its final TextResult (a for loop drops a generator's return value)."""

    def __init__(self, pieces: Generator[str, None, TextResult]):
        self._pieces = pieces
        self.result: TextResult | None = None

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        try:
            return next(self._pieces)
        except StopIteration as done:
            self.result = done.value
            raise

    def close(self) -> None:
        """Stop early: the engine's generator is closed."""
        self._pieces.close()

    def drain(self) -> TextResult:
        for _ in self:
            pass
        assert self.result is not None  # set from the generator's return value when it ended
        return self.result


def _token_streamer_class():
    from transformers import TextIteratorStreamer

    class TokenStreamer(TextIteratorStreamer):
        """Emits the text of every token as soon as it decodes completely (the base class waits for a space)."""

        next_tokens_are_prompt: bool  # set by TextIteratorStreamer / TextStreamer.__init__
        print_len: int

        def put(self, value):
            if len(value.shape) > 1:
                value = value[0]
            if self.skip_prompt and self.next_tokens_are_prompt:
                self.next_tokens_are_prompt = False
                return
            self.token_cache.extend(value.tolist())
            text = self.tokenizer.decode(self.token_cache, **self.decode_kwargs)
            if text.endswith("\ufffd"):  # an incomplete multi-byte character: wait for its next byte
                return
            printable, self.print_len = text[self.print_len :], len(text)
            if printable:
                self.on_finalized_text(printable)

    return TokenStreamer


def _TokenStreamer(*args, **kwargs):
    return _token_streamer_class()(*args, **kwargs)


def _first_stop(text: str, stops: list[str]) -> int | None:
    positions = [text.find(s) for s in stops if s in text]
    return min(positions) if positions else None


def _partial_stop_len(text: str, stops: list[str]) -> int:
    """Length of the longest suffix of text that is a proper prefix of a stop sequence."""
    best = 0
    for stop in stops:
        for k in range(min(len(stop) - 1, len(text)), 0, -1):
            if text.endswith(stop[:k]):
                best = max(best, k)
                break
    return best


def vllm_available(device: str) -> tuple[bool, str | None]:
    """vLLM serves a text model only when it is installed and the device is a CUDA GPU."""
    if not device.startswith("cuda"):
        return False, "vLLM needs a CUDA GPU"
    try:
        import vllm  # noqa: F401
    except ImportError:
        return False, "vLLM is not installed (pip install 'vid-diffusion-bench[vllm]')"
    return True, None


def make_text_engine(
    spec: ModelSpec,
    device: str = "auto",
    profile: str | OptimizationProfile | None = None,
    models_dir: Path | None = None,
) -> TextEngine:
    """The catalog's engine choice: 'vllm' requires vLLM, 'auto' uses it when available, else transformers."""
    resolved = resolve_device(device)
    if spec.engine in ("vllm", "auto"):
        available, reason = vllm_available(resolved)
        if available:
            return VllmTextEngine(spec, resolved, profile, models_dir)
        if spec.engine == "vllm":
            raise ValidationError(
                f"'{spec.name}' is configured for vLLM, which cannot run here: {reason}",
                {"model_name": spec.name, "reason": reason},
            )
    return TextEngine(spec, resolved, profile, models_dir)


class VllmTextEngine(TextEngine):
    """The same requests served by vLLM; tokens stream through the engine's add_request/step loop."""

    name = "vllm"

    def load(self) -> float:
        if self.model is None:
            from vllm import LLM

            self.check_memory()
            location = checkpoint_location(self.spec, self.models_dir)
            started = time.perf_counter()
            with load_failures(self.spec, location):
                self.model = LLM(
                    model=location,
                    dtype={"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}[self.profile.precision],
                    download_dir=str(self.models_dir / "hub"),
                )
            self.tokenizer = self.model.get_tokenizer()
            self.load_s = time.perf_counter() - started
        assert self.load_s is not None  # set by the first load
        return self.load_s

    def context_length(self) -> int | None:
        return self.model.llm_engine.model_config.max_model_len

    def stream(self, req: TextRequest) -> Generator[str, None, TextResult]:
        import uuid

        from vllm import SamplingParams

        self.load()
        max_tokens = self.fit_to_context(len(self.tokenizer(req.prompt)["input_ids"]), req.max_tokens)
        params = SamplingParams(
            max_tokens=max_tokens,
            temperature=req.temperature,
            top_p=req.top_p,
            top_k=req.top_k if req.top_k > 0 else -1,
            stop=req.stop or None,
            seed=req.seed,
        )
        engine = self.model.llm_engine
        request_id = uuid.uuid4().hex
        started = time.perf_counter()
        engine.add_request(request_id, req.prompt, params)
        sent, final = "", None
        while final is None and engine.has_unfinished_requests():
            with out_of_memory_as_typed(self.spec, self.device):
                outputs = engine.step()
            for output in outputs:
                if output.request_id != request_id:
                    continue
                text = output.outputs[0].text
                if len(text) > len(sent):
                    yield text[len(sent) :]
                    sent = text
                if output.finished:
                    final = output
        if final is None:
            raise ModelLoadError(f"vLLM dropped request {request_id}", {"model_name": self.spec.name})
        completion = final.outputs[0]
        return TextResult(
            text=sent,
            tokens_generated=len(completion.token_ids),
            finish_reason="length" if completion.finish_reason == "length" else "stop",
            prompt_tokens=len(final.prompt_token_ids or []),
            seconds=time.perf_counter() - started,
        )
