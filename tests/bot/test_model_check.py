"""`make` replaces a broken model archive; this checks the check itself on real archives."""

import io
import tarfile
from pathlib import Path

from bot.model_check import main, problem_with


def _archive(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return path


def test_a_readable_model_passes(tmp_path: Path) -> None:
    model = _archive(tmp_path / "m.tar.gz", {"metadata.json": b"{}", "components/x": b"1" * 10})
    assert problem_with(model) is None
    assert main([str(model)]) == 0


def test_a_truncated_model_is_reported(tmp_path: Path, capsys) -> None:
    good = _archive(tmp_path / "m.tar.gz", {"metadata.json": b"{}", "big": bytes(range(256)) * 400})
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good.read_bytes()[:200])
    assert "cannot be read" in problem_with(cut)
    assert main([str(cut)]) == 1
    assert "new one will be trained" in capsys.readouterr().err


def test_a_tar_that_is_not_a_model_is_reported(tmp_path: Path) -> None:
    model = _archive(tmp_path / "m.tar.gz", {"readme.txt": b"hello"})
    assert "not a Rasa model" in problem_with(model)


def test_a_missing_model_is_reported(tmp_path: Path) -> None:
    assert "does not exist" in problem_with(tmp_path / "none.tar.gz")
