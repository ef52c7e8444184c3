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
    assert main(["demo", "--max-epochs", "2", "--montage", str(out)]) == 0
    captured = capsys.readouterr()
    assert "KMeans" in captured.out and "DCCS" in captured.out and "ACC" in captured.out
    assert "points of accuracy" in captured.out
    assert "DCCS: 100%" in captured.err  # the progress bar (verbose=1)
    assert out.exists() and out.stat().st_size > 0
    assert main(["demo", "--method", "icae", "--max-epochs", "1", "--verbose", "0",
                 "--montage", ""]) == 0
    captured = capsys.readouterr()
    assert "ICAE" in captured.out and captured.err == ""


def test_demo_shortens_dccs_and_says_so(monkeypatch, capsys):
    """Without --max-epochs the demo runs DEMO_EPOCHS (120 for DCCS) and names the
    default it departs from; the other methods keep max_epochs='auto'."""
    from skdeepclust import _cli

    assert _cli.build_parser().parse_args(["demo"]).max_epochs is None
    assert _cli.DEMO_EPOCHS == {"dccs": 120}
    monkeypatch.setattr(_cli, "DEMO_EPOCHS", {"dccs": 2})
    assert _cli.main(["demo", "--montage", ""]) == 0
    captured = capsys.readouterr()
    assert "DCCS trains 2 epochs here" in captured.out
    assert "default on this data is 138" in captured.out
    assert "2/2" in captured.err  # the progress bar: the model trained the 2 epochs
    # An explicit --max-epochs is run as given, without the announcement.
    assert _cli.main(["demo", "--max-epochs", "1", "--montage", ""]) == 0
    captured = capsys.readouterr()
    assert "trains" not in captured.out and "1/1" in captured.err


def _write_pngs(folder, n=24, seed=0):
    import numpy as np
    from PIL import Image

    rng = np.random.RandomState(seed)
    folder.mkdir()
    for i in range(n):
        img = np.zeros((10, 10), dtype=np.uint8)
        if i % 2:
            img[2:8, 4:6] = 255  # a bar
        else:
            img[4:6, 2:8] = 255
        img = np.clip(img + rng.randint(0, 30, img.shape), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(folder / f"img{i:02d}.png")
    (folder / "broken.png").write_bytes(b"not an image")


def test_cli_cluster_and_predict(tmp_path, capsys):
    import csv

    from skdeepclust._cli import main

    images = tmp_path / "images"
    _write_pngs(images)
    out = tmp_path / "out"
    assert main(["cluster", str(images), "--n-clusters", "2", "--out", str(out),
                 "--epochs", "2", "--n-init", "2", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "skipped" in captured.err and "broken.png" in captured.err
    rows = list(csv.DictReader((out / "labels.csv").open()))
    assert len(rows) == 24 and {r["cluster"] for r in rows} <= {"0", "1"}
    assert (out / "model.skdc").exists() and list(out.glob("cluster_*.png"))
    from skdeepclust import load

    assert load(out / "model.skdc").n_init == 2
    assert main(["predict", str(out / "model.skdc"), str(images), "--out",
                 str(tmp_path / "p.csv")]) == 0
    pred = list(csv.DictReader((tmp_path / "p.csv").open()))
    assert [r["cluster"] for r in pred] == [r["cluster"] for r in rows]


def test_cli_empty_folder_is_a_clear_error(tmp_path):
    import pytest

    from skdeepclust._cli import main

    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit, match="no readable image"):
        main(["cluster", str(tmp_path / "empty"), "--n-clusters", "2"])


def test_every_command_has_help():
    import pytest

    from skdeepclust._cli import main

    for cmd in ("demo", "cluster", "predict"):
        with pytest.raises(SystemExit) as exc:
            main([cmd, "--help"])
        assert exc.value.code == 0
