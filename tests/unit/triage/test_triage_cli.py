"""The triage command line: JSON on stdout, one error line and exit 2 on bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from triage.cli import app

SEED = Path(str(resources.files("triage.seed")))
EXAMPLES, HOLDOUT, TEAM_MAP = SEED / "examples.csv", SEED / "holdout.csv", SEED / "team_map.json"

runner = CliRunner()


def _one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    assert result.stdout == ""
    return lines[0]


@pytest.fixture(scope="module")
def cli_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "model"
    result = runner.invoke(
        app, ["train", "--data", str(EXAMPLES), "--team-map", str(TEAM_MAP), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["out"] == str(out)
    assert report["labels"] == 8
    assert 0 < report["threshold"] <= 1
    assert report["metrics"]["validation"] == "holdout"
    return out


class TestHappyPath:
    def test_train_writes_a_model(self, cli_model: Path) -> None:
        assert (cli_model / "model.joblib").is_file()
        assert (cli_model / "meta.json").is_file()

    def test_evaluate(self, cli_model: Path) -> None:
        result = runner.invoke(
            app,
            [
                "evaluate",
                "--model",
                str(cli_model),
                "--data",
                str(HOLDOUT),
                "--team-map",
                str(TEAM_MAP),
            ],
        )
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        for key in (
            "n",
            "accuracy",
            "macro_f1",
            "team_accuracy",
            "abstain_rate",
            "accuracy_when_confident",
            "predict_ms_p50",
            "predict_ms_p99",
        ):
            assert key in report
        assert report["n"] == 160
        assert report["accuracy"] > 0.8

    def test_evaluate_with_out_of_scope_rows(self, cli_model: Path, tmp_path: Path) -> None:
        data = tmp_path / "oos.csv"
        data.write_text(
            HOLDOUT.read_text(encoding="utf-8")
            + "blorb flib flob,oos,en,normal\nрецепт борща с фасолью,oos,ru,normal\n",
            encoding="utf-8",
        )
        result = runner.invoke(
            app, ["evaluate", "--model", str(cli_model), "--data", str(data), "--oos-label", "oos"]
        )
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert "in_scope_accuracy" in report
        assert "oos_recall" in report
        assert "team_accuracy" not in report

    def test_predict_prints_json_lines(self, cli_model: Path) -> None:
        result = runner.invoke(
            app,
            ["predict", "--model", str(cli_model), "Срочно! не могу войти", "where is my parcel"],
        )
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert [row["category"] for row in rows] == ["account", "delivery"]
        assert rows[0]["priority"] == "urgent"
        for row in rows:
            assert {"category", "team", "priority", "confidence", "needs_human"} <= set(row)

    @pytest.mark.parametrize("label", ["oos", "other"])
    def test_train_accepts_out_of_scope_rows(self, tmp_path: Path, label: str) -> None:
        data = tmp_path / "with_oos.csv"
        examples = EXAMPLES.read_text(encoding="utf-8").splitlines()
        off_topic = (SEED / "off_topic.csv").read_text(encoding="utf-8").splitlines()[1:]
        data.write_text(
            "\n".join(examples + [row.replace(",oos,", f",{label},") for row in off_topic]),
            encoding="utf-8",
        )
        out = tmp_path / "model"
        args = ["train", "--data", str(data), "--team-map", str(TEAM_MAP), "--out", str(out)]
        if label != "oos":
            args += ["--oos-label", label]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["oos_label"] == label
        assert report["labels"] == 8  # "none of these" is not a category
        assert report["metrics"]["n_out_of_scope"] > 0
        meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
        assert meta["oos_label"] == label
        assert label not in meta["labels"]
        predicted = runner.invoke(app, ["predict", "--model", str(out), "привет", "thanks!"])
        assert all(json.loads(line)["needs_human"] for line in predicted.stdout.splitlines())

    def test_train_with_a_team_column(self, tmp_path: Path) -> None:
        data = tmp_path / "teams.csv"
        lines = EXAMPLES.read_text(encoding="utf-8").splitlines()
        header, rows = lines[0], lines[1:]
        data.write_text(
            "\n".join([header + ",team"] + [f"{row},T{len(row) % 2}" for row in rows[::2]]),
            encoding="utf-8",
        )
        out = tmp_path / "model"
        result = runner.invoke(app, ["train", "--data", str(data), "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["teams"] == 2


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    files = {
        "binary": tmp_path / "binary.csv",
        "no_columns": tmp_path / "no_columns.csv",
        "empty": tmp_path / "empty.csv",
        "header_only": tmp_path / "header_only.csv",
        "bad_json": tmp_path / "bad.json",
        "list_json": tmp_path / "list.json",
        "partial_map": tmp_path / "partial.json",
    }
    files["binary"].write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    files["no_columns"].write_text("message,label\nhello,general\n")
    files["empty"].write_text("")
    files["header_only"].write_text("text,category\n")
    files["bad_json"].write_text("{not json")
    files["list_json"].write_text('["billing"]')
    files["partial_map"].write_text('{"Billing": ["billing"]}')
    return files


class TestBadInput:
    @pytest.mark.parametrize(
        ("case", "message"),
        [
            ("missing", "not found"),
            ("binary", "not a"),
            ("no_columns", "missing required column"),
            ("empty", "empty file"),
            ("header_only", "no data rows"),
        ],
    )
    def test_train_bad_data(self, tmp_path: Path, case: str, message: str) -> None:
        data = _bad_files(tmp_path).get(case, tmp_path / "missing.csv")
        result = runner.invoke(app, ["train", "--data", str(data), "--out", str(tmp_path / "m")])
        assert message in _one_error_line(result)
        assert not (tmp_path / "m").exists()

    @pytest.mark.parametrize(
        ("case", "message"),
        [
            ("missing", "team map not found"),
            ("bad_json", "not valid JSON"),
            ("list_json", "expected a JSON object"),
            ("partial_map", "no team for categories"),
        ],
    )
    def test_train_bad_team_map(self, tmp_path: Path, case: str, message: str) -> None:
        team_map = _bad_files(tmp_path).get(case, tmp_path / "missing.json")
        result = runner.invoke(
            app,
            [
                "train",
                "--data",
                str(EXAMPLES),
                "--team-map",
                str(team_map),
                "--out",
                str(tmp_path / "m"),
            ],
        )
        assert message in _one_error_line(result)

    def test_train_too_few_examples(self, tmp_path: Path) -> None:
        data = tmp_path / "tiny.csv"
        data.write_text("text,category\nhello,a\nbye,b\n")
        result = runner.invoke(app, ["train", "--data", str(data), "--out", str(tmp_path / "m")])
        assert "at least 3 examples" in _one_error_line(result)

    @pytest.mark.parametrize("command", ["evaluate", "predict"])
    def test_missing_model_directory(self, tmp_path: Path, command: str) -> None:
        args = [command, "--model", str(tmp_path / "none")]
        args += ["--data", str(HOLDOUT)] if command == "evaluate" else ["hello"]
        assert "model directory not found" in _one_error_line(runner.invoke(app, args))

    @pytest.mark.parametrize("command", ["evaluate", "predict"])
    def test_model_of_another_sklearn_version(
        self, cli_model: Path, tmp_path: Path, command: str
    ) -> None:
        model = Path(shutil.copytree(cli_model, tmp_path / "old"))
        meta = json.loads((model / "meta.json").read_text())
        meta["versions"]["sklearn"] = "1.2.0"
        (model / "meta.json").write_text(json.dumps(meta))
        args = [command, "--model", str(model)]
        args += ["--data", str(HOLDOUT)] if command == "evaluate" else ["hello"]
        assert "scikit-learn 1.2.0" in _one_error_line(runner.invoke(app, args))

    def test_evaluate_bad_data(self, cli_model: Path, tmp_path: Path) -> None:
        data = _bad_files(tmp_path)["no_columns"]
        result = runner.invoke(app, ["evaluate", "--model", str(cli_model), "--data", str(data)])
        assert "missing required column" in _one_error_line(result)


class TestModuleEntryPoint:
    def test_python_dash_m_triage(self, tmp_path: Path) -> None:
        completed = subprocess.run(
            [sys.executable, "-m", "triage", "predict", "--model", str(tmp_path / "x"), "hi"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert completed.returncode == 2
        assert completed.stderr.strip().count("\n") == 0
        assert completed.stderr.startswith("error: model directory not found")

    def test_help_lists_the_commands(self) -> None:
        result = runner.invoke(app, ["--help"])
        assert result.exit_code == 0
        for command in ("train", "evaluate", "predict", "train-default"):
            assert command in result.stdout
