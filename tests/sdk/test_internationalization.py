"""vid_diffusion_bench.internationalization, and the API reference's "Complete Benchmark Workflow" example run as
written (tiny built-in models in place of svd-xt and cogvideo; the CPU where no GPU is) printing its Spanish strings.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from vid_diffusion_bench import internationalization
from vid_diffusion_bench.exceptions import ValidationError

REFERENCE = next(
    (
        folder / "shared" / "spec" / "benchmark-suite-api.md"
        for folder in Path(__file__).resolve().parents
        if (folder / "shared" / "spec" / "benchmark-suite-api.md").is_file()
    ),
    Path("benchmark-suite-api.md"),
)
"""The reference beside the checkout (../shared/spec), where there is one."""

# The example as the reference writes it ("Examples" > "Complete Benchmark Workflow").
WORKFLOW = textwrap.dedent("""
    import asyncio
    from vid_diffusion_bench import BenchmarkSuite, StandardPrompts
    from vid_diffusion_bench.internationalization import set_locale, translate

    async def complete_workflow():
        # Set Spanish locale
        set_locale("es")

        # Initialize suite
        suite = BenchmarkSuite(device="cuda")

        print(translate("benchmark.model_evaluation"))  # "Evaluación del Modelo"

        # Single model evaluation
        result = suite.evaluate_model(
            model_name="svd-xt",
            prompts=StandardPrompts.DIVERSE_SET_V2[:3],
            num_frames=16,
            fps=8,
            save_videos=True
        )

        print(f"Puntuación general: {result.metrics['overall_score']:.2f}")

        # Multi-model comparison
        models = ["svd-xt", "cogvideo"]
        comparison = suite.evaluate_multiple_models(
            model_names=models,
            prompts=StandardPrompts.CINEMATIC_SET[:2],
            max_workers=2
        )

        # Generate comparison report
        report = suite.compare_models(comparison)
        print(f"Modelos Pareto: {report['pareto_frontier']}")

    # Run the workflow
    asyncio.run(complete_workflow())
""")


def substituted(code: str, device: str) -> str:
    """Only the model names (tiny built-ins) and, on a machine without CUDA, the device change."""
    return (
        code.replace('"svd-xt"', '"tiny-t2v"')
        .replace('"cogvideo"', '"tiny-i2v"')
        .replace('device="cuda"', f'device="{device}"')
    )


def test_the_embedded_example_is_the_references():
    if not REFERENCE.is_file():
        pytest.skip(f"the reference is not beside this checkout ({REFERENCE})")
    text = REFERENCE.read_text()
    block = re.search(r"### Complete Benchmark Workflow\n```python\n(.*?)```", text, re.S).group(1)
    block = block.encode("mac_roman").decode("utf-8")  # its UTF-8 was once read as Mac Roman: "Evaluaci√≥n" -> "ó"
    squeeze = lambda code: [line.strip() for line in code.splitlines() if line.strip()]  # noqa: E731
    assert squeeze(block) == squeeze(WORKFLOW)


def test_set_locale_translate_get_locale():
    assert internationalization.set_locale("zh_CN") == "zh-CN" and internationalization.get_locale() == "zh-CN"
    assert internationalization.translate("benchmark.overall_score") == "总分"
    assert internationalization.translate("benchmark.overall_score", "fr") == "Score global"
    assert internationalization.translate("Pareto frontier: {names}", "de", names="a, b") == "Pareto-Front: a, b"
    with pytest.raises(ValidationError, match="Unknown locale 'klingon'; supported: en, es, fr, de, ja, zh-CN") as err:
        internationalization.set_locale("klingon")
    assert err.value.details["allowed"] == ["en", "es", "fr", "de", "ja", "zh-CN"]
    assert internationalization.get_locale() == "zh-CN"  # a refused locale changes nothing


def test_reference_keys_are_offered_in_every_locale():
    for key in internationalization.MESSAGE_KEYS:
        texts = {code: internationalization.translate(key, code) for code in internationalization.SUPPORTED_LOCALES}
        assert all(text != key for text in texts.values()), texts


def test_complete_benchmark_workflow_prints_spanish(ray_session, capsys):
    import torch

    code = substituted(WORKFLOW, "cuda" if torch.cuda.is_available() else "cpu")
    exec(compile(code, "complete_benchmark_workflow.py", "exec"), {"__name__": "__main__"})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Evaluación del Modelo"
    assert re.fullmatch(r"Puntuación general: \d+\.\d\d", lines[1])
    pareto = re.fullmatch(r"Modelos Pareto: \[(.*)\]", lines[2]).group(1)
    assert pareto and set(re.findall(r"'([^']+)'", pareto)) <= {"tiny-t2v", "tiny-i2v"}


def test_the_http_client_asks_for_the_sdk_locale():
    import httpx

    from vid_diffusion_bench.client import VidBenchClient
    from vid_diffusion_bench.exceptions import BenchmarkNotFoundError

    asked = []

    def gateway(request: httpx.Request) -> httpx.Response:  # records what the client sends
        asked.append(request.headers.get("accept-language"))
        return httpx.Response(
            404,
            json={
                "error": {"code": "BENCHMARK_NOT_FOUND", "details": {}, "message": "No se encontró el benchmark 'b'"}
            },
        )

    internationalization.set_locale("es")
    with VidBenchClient("http://gateway.test", api_key="k") as client:
        client.http._transport = httpx.MockTransport(gateway)
        with pytest.raises(BenchmarkNotFoundError, match="No se encontró"):
            client._request("GET", "/benchmarks/b")
        client.http.get("/api/v1/benchmarks/b", headers={"Accept-Language": "ja"})
    assert asked == ["es", "ja"]


def test_advanced_configuration_options():
    """The reference's "Advanced Configuration": set_locale("es") and enable_monitoring (a resource timeline)."""
    from vid_diffusion_bench import BenchmarkSuite

    internationalization.set_locale("es")
    suite = BenchmarkSuite(device="cpu", output_dir="./resultados", enable_monitoring=True)
    assert suite.output_dir.name == "resultados" and suite.enable_monitoring
    assert not BenchmarkSuite(device="cpu").enable_monitoring
