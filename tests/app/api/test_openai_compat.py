"""The OpenAI-compatible routes in-process, called by the official `openai` client over the TestClient."""

import base64

import pytest
from openai import NotFoundError, OpenAI, PermissionDeniedError


def _client(gw, key: str) -> OpenAI:
    # over the client without default credentials, so the bearer key is the one that counts
    return OpenAI(base_url="http://testserver/v1", api_key=key, http_client=gw.anonymous, max_retries=0)


@pytest.fixture
def openai(gw) -> OpenAI:
    return _client(gw, gw.admin_key)


def test_models_are_the_deployed_ones(gw, openai):
    listed = gw.http.get("/v1/models").json()
    assert listed["object"] == "list"
    assert [(m["id"], m["modality"]) for m in listed["data"]] == [
        ("tiny-t2i", "image"),
        ("tiny-t2v", "video"),
        ("tiny-text", "text"),
        ("tiny-tts", "speech"),
    ]
    assert [m.id for m in openai.models.list()] == ["tiny-t2i", "tiny-t2v", "tiny-text", "tiny-tts"]


def test_chat_and_completions_with_usage(openai):
    chat = openai.chat.completions.create(
        model="tiny-text", messages=[{"role": "user", "content": "Hi"}], max_tokens=5, temperature=0
    )
    assert chat.choices[0].message.role == "assistant" and chat.choices[0].finish_reason == "length"
    assert chat.usage.completion_tokens == 5
    assert chat.usage.total_tokens == chat.usage.prompt_tokens + chat.usage.completion_tokens
    completion = openai.completions.create(model="tiny-text", prompt="Once upon", max_tokens=4, stop=["zzz"])
    assert completion.choices[0].text == " Once upon Once upon" and completion.choices[0].finish_reason == "length"


def test_streamed_chat_equals_the_whole_answer(openai):
    whole = openai.chat.completions.create(
        model="tiny-text", messages=[{"role": "user", "content": "Hi"}], max_tokens=5
    )
    chunks = list(
        openai.chat.completions.create(
            model="tiny-text", messages=[{"role": "user", "content": "Hi"}], max_tokens=5, stream=True
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == whole.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "length"


def test_images_and_speech(openai):
    image = openai.images.generate(model="tiny-t2i", prompt="A cat", n=2, size="32x32", response_format="b64_json")
    assert len(image.data) == 2 and all(base64.b64decode(d.b64_json)[:4] == b"\x89PNG" for d in image.data)
    by_url = openai.images.generate(model="tiny-t2i", prompt="A cat", size="32x32")
    assert by_url.data[0].url.startswith("http://testserver/api/v1/artifacts/")
    audio = openai.audio.speech.create(model="tiny-tts", input="hello", voice="speaker_0", response_format="wav")
    assert audio.content[:4] == b"RIFF"


def test_errors_reach_the_client_typed(gw, openai):
    with pytest.raises(NotFoundError):
        openai.chat.completions.create(model="nope", messages=[{"role": "user", "content": "Hi"}])
    reader = _client(gw, gw.new_key(["models.read"])["key"])
    with pytest.raises(PermissionDeniedError):
        reader.completions.create(model="tiny-text", prompt="x")
    bad_size = gw.http.post("/v1/images/generations", json={"model": "tiny-t2i", "prompt": "x", "size": "big"})
    assert bad_size.status_code == 400 and "WIDTHxHEIGHT" in bad_size.json()["error"]["message"]
