"""Built-in tiny models: real diffusers pipelines and transformers models from small configs.

They exist so that the harness (loading, generation, timing, metrics, storage,
Ray) runs end to end with no network. Each builder makes a pipeline with fixed
seeds, and :func:`ensure_builtin` saves it once under the models directory with
``save_pretrained``; from then on it is loaded with ``from_pretrained`` exactly
like a downloaded checkpoint. The weights are random: these models measure the
machinery, not visual quality.

The tokenizers are written locally (a byte-level CLIP BPE with no merges; a
character-level T5 Unigram), so no vocabulary has to be downloaded.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

BUILDER_VERSION = "4"  # bump when a config below changes, so stale copies are rebuilt
_MARKER = "vid_bench_builtin.json"


class _Savable(Protocol):
    """What a builder returns: anything saved with ``save_pretrained`` (a pipeline, or a model and its tokenizer)."""

    def save_pretrained(self, path: Path, /) -> None: ...


def _byte_unicode_table() -> list[str]:
    """The GPT-2/CLIP byte -> printable-unicode table (same as transformers' bytes_to_unicode)."""
    printable = (
        list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    )
    codes = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + extra)
            extra += 1
    return [chr(c) for _, c in sorted(zip(printable, codes, strict=True))]


def build_clip_tokenizer(workdir: Path):
    from transformers import CLIPTokenizer

    chars = _byte_unicode_table()
    vocab: dict[str, int] = {}
    for ch in chars:
        vocab[ch] = len(vocab)
    for ch in chars:
        vocab[ch + "</w>"] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "vocab.json").write_text(json.dumps(vocab))
    (workdir / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(workdir / "vocab.json"), str(workdir / "merges.txt"), model_max_length=77)


def _clip_text_encoder(tokenizer):
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    config = CLIPTextConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        hidden_size=32,
        intermediate_size=37,
        layer_norm_eps=1e-5,
        num_attention_heads=4,
        num_hidden_layers=2,
        vocab_size=len(tokenizer),
        projection_dim=32,
        max_position_embeddings=77,
    )
    return CLIPTextModel(config)


def _vae_2d():
    import torch
    from diffusers import AutoencoderKL

    torch.manual_seed(0)
    return AutoencoderKL(
        block_out_channels=(8, 16),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        sample_size=64,
        norm_num_groups=4,
    )


def _ddim():
    from diffusers import DDIMScheduler

    return DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )


COGVIDEOX_TEXT_TOKENS = 226
"""CogVideoXPipeline pads prompts to 226 tokens by default; the transformer's text length must match it."""


def build_t5_tokenizer():
    """A T5 (Unigram) tokenizer over single characters, built locally: every non-space character is a token."""
    import string

    from transformers import T5Tokenizer

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    pieces += [(ch, -3.0) for ch in string.ascii_letters + string.digits + string.punctuation]
    return T5Tokenizer(vocab=pieces, extra_ids=0, model_max_length=COGVIDEOX_TEXT_TOKENS)


def build_cogvideox(workdir: Path):
    """CogVideoX family: CogVideoXTransformer3DModel + 3D causal VAE + T5 encoder.

    The VAE compresses space 8x but not time (temporal_compression_ratio=1), so any frame count is one latent
    frame per output frame and the pipeline returns exactly num_frames.
    """
    import torch
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXPipeline,
        CogVideoXTransformer3DModel,
    )
    from transformers import T5Config, T5EncoderModel

    tokenizer = build_t5_tokenizer()
    torch.manual_seed(0)
    text_encoder = T5EncoderModel(
        T5Config(
            vocab_size=len(tokenizer),
            d_model=32,
            d_ff=37,
            d_kv=8,
            num_heads=4,
            num_layers=2,
            relative_attention_num_buckets=8,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
            decoder_start_token_id=tokenizer.pad_token_id,
        )
    )
    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=4,
        attention_head_dim=8,
        in_channels=4,
        out_channels=4,
        time_embed_dim=2,
        text_embed_dim=32,
        num_layers=1,
        sample_width=4,
        sample_height=4,
        sample_frames=8,
        patch_size=2,
        temporal_compression_ratio=1,
        max_text_seq_length=COGVIDEOX_TEXT_TOKENS,
    )
    torch.manual_seed(0)
    vae = AutoencoderKLCogVideoX(
        in_channels=3,
        out_channels=3,
        down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=1,
    )
    return CogVideoXPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=vae,
        transformer=transformer,
        scheduler=CogVideoXDDIMScheduler(),
    )


def build_stable_diffusion(workdir: Path):
    """Stable Diffusion family: UNet2DConditionModel + AutoencoderKL + CLIP text encoder."""
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel

    tokenizer = build_clip_tokenizer(workdir / "_tok")
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(16, 32),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=4,
    )
    return StableDiffusionPipeline(
        vae=_vae_2d(),
        text_encoder=_clip_text_encoder(tokenizer),
        tokenizer=tokenizer,
        unet=unet,
        scheduler=_ddim(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def build_stable_video_diffusion(workdir: Path):
    """SVD family: UNetSpatioTemporalConditionModel + temporal VAE + CLIP vision encoder.

    The SVD blocks hard-code 32-group norms, hence channel counts of 32 and 64;
    the pipeline resizes the conditioning image to 224, hence the vision encoder's size.
    """
    import torch
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=32,
        in_channels=8,
        out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=32,
        num_attention_heads=(2, 4),
        projection_class_embeddings_input_dim=96,
        addition_time_embed_dim=32,
    )
    scheduler = EulerDiscreteScheduler(
        beta_schedule="scaled_linear",
        beta_start=0.00085,
        beta_end=0.012,
        interpolation_type="linear",
        num_train_timesteps=1000,
        prediction_type="v_prediction",
        sigma_max=700.0,
        sigma_min=0.002,
        steps_offset=1,
        timestep_spacing="leading",
        timestep_type="continuous",
        use_karras_sigmas=True,
    )
    torch.manual_seed(0)
    vae = AutoencoderKLTemporalDecoder(
        block_out_channels=(32, 64),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        latent_channels=4,
    )
    torch.manual_seed(0)
    image_encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=32,
            projection_dim=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            image_size=224,
            intermediate_size=37,
            patch_size=32,
        )
    )
    feature_extractor = CLIPImageProcessor(crop_size=32, size=32)
    return StableVideoDiffusionPipeline(
        vae=vae, image_encoder=image_encoder, unet=unet, scheduler=scheduler, feature_extractor=feature_extractor
    )


class _ModelAndTokenizer:
    """A transformers model and its tokenizer, saved side by side like a hub checkpoint."""

    def __init__(self, model, tokenizer):
        self.model, self.tokenizer = model, tokenizer

    def save_pretrained(self, path: Path) -> None:
        self.model.save_pretrained(path)
        self.tokenizer.save_pretrained(path)


def build_causal_lm(workdir: Path):
    """GPT-2 family causal LM with a byte-level BPE tokenizer (every byte a token, no merges)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2Tokenizer

    vocab = {ch: i for i, ch in enumerate(_byte_unicode_table())}
    vocab["<|endoftext|>"] = len(vocab)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "vocab.json").write_text(json.dumps(vocab))
    (workdir / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = GPT2Tokenizer(str(workdir / "vocab.json"), str(workdir / "merges.txt"))
    torch.manual_seed(0)
    model = GPT2LMHeadModel(
        GPT2Config(
            vocab_size=len(vocab),
            n_positions=1024,
            n_embd=32,
            n_layer=2,
            n_head=4,
            bos_token_id=tokenizer.eos_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    )
    return _ModelAndTokenizer(model, tokenizer)


def build_vits(workdir: Path):
    """MMS-TTS family: a VITS text-to-speech model with a character vocabulary."""
    import torch
    from transformers import VitsConfig, VitsModel, VitsTokenizer

    characters = list("abcdefghijklmnopqrstuvwxyz '.,!?-")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "vocab.json").write_text(json.dumps({ch: i for i, ch in enumerate(characters)}))
    tokenizer = VitsTokenizer(str(workdir / "vocab.json"), add_blank=True, phonemize=False, normalize=True)
    torch.manual_seed(0)
    config = VitsConfig(
        vocab_size=len(characters),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        ffn_dim=16,
        flow_size=16,
        spectrogram_bins=33,
        upsample_initial_channel=16,
        upsample_rates=[8, 8],
        upsample_kernel_sizes=[16, 16],
        resblock_kernel_sizes=[3, 7],
        resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5]],
        prior_encoder_num_flows=2,
        prior_encoder_num_wavenet_layers=2,
        posterior_encoder_num_wavenet_layers=2,
        duration_predictor_num_flows=2,
        duration_predictor_filter_channels=16,
        sampling_rate=16000,
    )
    return _ModelAndTokenizer(VitsModel(config), tokenizer)


BUILDERS: dict[str, Callable[[Path], _Savable]] = {
    "cogvideox": build_cogvideox,
    "stable_diffusion": build_stable_diffusion,
    "stable_video_diffusion": build_stable_video_diffusion,
    "causal_lm": build_causal_lm,
    "vits": build_vits,
}


def builtin_path(models_dir: Path, name: str) -> Path:
    return models_dir / "builtin" / name


def ensure_builtin(name: str, builder: str, models_dir: Path) -> Path:
    """Build and save a tiny model once; return its directory (a normal diffusers checkpoint).

    Built in a temporary directory and renamed into place, so concurrent actors
    never see a half-written checkpoint.
    """
    if builder not in BUILDERS:
        raise ValueError(f"unknown builtin builder '{builder}'; known: {sorted(BUILDERS)}")
    target = builtin_path(models_dir, name)
    marker = target / _MARKER
    if marker.exists() and json.loads(marker.read_text()).get("version") == BUILDER_VERSION:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        pipe = BUILDERS[builder](tmp / "_work")
        pipe.save_pretrained(tmp / "model")
        (tmp / "model" / _MARKER).write_text(json.dumps({"builder": builder, "version": BUILDER_VERSION}))
        if target.exists():
            stale = target.with_name(f".stale-{name}-{tmp.name}")
            try:
                target.rename(stale)
                shutil.rmtree(stale, ignore_errors=True)
            except OSError:
                pass
        try:
            (tmp / "model").rename(target)
        except OSError:
            if not marker.exists():  # lost a race to another process that finished first: fine
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
