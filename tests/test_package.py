import subprocess
import sys

import skdeepclust


def test_public_names_import():
    for name in skdeepclust.__all__:
        assert getattr(skdeepclust, name) is not None
    assert skdeepclust.__version__.count(".") == 2


def test_import_does_not_load_torchvision():
    code = "import sys, skdeepclust; print('torchvision' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cli_help():
    from skdeepclust._cli import build_parser

    parser = build_parser()
    assert "demo" in parser.format_help()


def test_demo_runs_end_to_end(tmp_path, capsys):
    """The README's first command, with a tiny budget."""
    from skdeepclust._cli import main

    out = tmp_path / "m.png"
    assert main(["demo", "--max-epochs", "1", "--montage", str(out)]) == 0
    text = capsys.readouterr().out
    assert "KMeans" in text and "ICAE" in text and "ACC" in text
    assert out.exists() and out.stat().st_size > 0
