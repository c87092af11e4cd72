"""`geomcheck study` on a Hugging Face save_pretrained folder (a tiny random BERT written here):
the layers come from config.json, token activations from the folder's own model, and a re-run
from the saved inputs reproduces the numbers bit for bit."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from geomcheck.cli import main  # noqa: E402
from geomcheck.studies.study import model_family  # noqa: E402
from tests.test_hf_folders import bert_model, save_tokenizer  # noqa: E402


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("bert-study")
    bert_model(3, layers=3).save_pretrained(path)
    save_tokenizer(path)
    return path


def test_folder_family_reads_the_layer_count(folder):
    fam = model_family(f"{folder}?layer=1")
    assert fam.layers == 3 and fam.default_layers == (1,)
    block = fam.load_block(2)
    assert (block.d, block.n) == (16, 24) and block.norm.kind == "layernorm"
    acts = fam.token_activations(2, ["the cat sat on a mat"])
    assert acts[0][1].shape == (8, 16)  # [CLS] + 6 words + [SEP]


def test_folder_study_and_rerun(folder, tmp_path, capsys):
    argv = ["study", str(folder), "--layers", "0,2", "--text", "the cat sat on a mat", "--text", "a dog ran far away",
            "--sizes", "3,2,6", "--rotation-samples", "64", "--json", "--no-progress"]
    assert main(argv + ["--save-inputs", str(tmp_path / "in.npz")]) == 0
    first = json.loads(capsys.readouterr().out)
    assert [L["index"] for L in first["layers"]] == [0, 2]
    assert main(["study", str(folder), "--layers", "0,2", "--sizes", "3,2,6", "--rotation-samples", "64", "--json",
                 "--inputs", str(tmp_path / "in.npz")]) == 0
    second = json.loads(capsys.readouterr().out)
    assert first["inputs"]["sha256"] == second["inputs"]["sha256"]
    first.pop("inputs"), second.pop("inputs")
    assert first == second
    assert main(["study", str(folder), "--layers", "3"]) == 2
    assert "does not exist" in capsys.readouterr().err
