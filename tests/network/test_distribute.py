"""tf.distribute: dreams split across 2 logical CPU devices, same images as on one."""

import subprocess
import sys

import pytest

from kerasdream.network import distribute
from kerasdream.cli.commands import main
from kerasdream.errors import DreamError


def filters_command(model, out, *extra):
    # Five filters on two replicas: the last chunk is padded to an even batch.
    return [sys.executable, "-m", "kerasdream", "filters", "--model", model, "--layer", "relu2",
            "--filters", "0-4", "--size", "16", "--steps", "20", "--out", str(out),
            "--models-dir", str(out / "models"), "--quiet", *extra]


@pytest.mark.slow
def test_two_replica_mirrored_run_gives_the_same_images_as_one_device(tiny_cnn_path, tmp_path):
    # One device in this process; the two-replica run needs a fresh one to split the CPU.
    assert main(filters_command(tiny_cnn_path, tmp_path / "one")[3:]) == 0
    done = subprocess.run(
        filters_command(tiny_cnn_path, tmp_path / "two", "--strategy", "mirrored",
                        "--cpu-devices", "2"),
        check=True, capture_output=True, text=True)
    assert "num_replicas_in_sync" not in done.stdout  # quiet run, just the summary
    for k in range(5):
        one = (tmp_path / "one" / "relu2" / f"filter_{k}.png").read_bytes()
        two = (tmp_path / "two" / "relu2" / f"filter_{k}.png").read_bytes()
        assert one == two, f"filter {k} differs"


@pytest.mark.slow
def test_two_replicas_really_split_the_batch(tiny_cnn_path, tmp_path):
    script = f"""
import tensorflow as tf
from kerasdream.network import distribute
import kerasdream as kd
distribute.split_cpu(2)
strategy = distribute.get_strategy("mirrored")
with strategy.scope():
    model = kd.DreamModel(kd.Channel("relu2", [0, 1, 2, 3]), {tiny_cnn_path!r}, size=16)
    model.compile(optimizer="sgd")
dataset = strategy.experimental_distribute_dataset(kd.model.dream_dataset(4))
batch = next(iter(dataset))
print(strategy.num_replicas_in_sync, [int(t.shape[0]) for t in strategy.experimental_local_results(batch)])
"""
    done = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                          text=True)
    assert done.stdout.split()[-3:] == ["2", "[2,", "2]"]


def test_multiworker_is_refused_with_the_upstream_reason_and_points_to_cluster(
        tiny_cnn_path, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["filters", "--model", tiny_cnn_path, "--layer", "relu2", "--filters", "0",
              "--size", "16", "--steps", "1", "--out", str(tmp_path), "--quiet",
              "--strategy", "multiworker"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "tensorflow/tensorflow#72388" in err and "--cluster" in err
    with pytest.raises(DreamError, match="--cluster"):
        distribute.get_strategy("multiworker")


def test_several_steps_per_call_under_a_strategy_is_refused_clearly(tiny_cnn_path):
    import tensorflow as tf

    import kerasdream as kd

    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
        model = kd.DreamModel(kd.Channel("relu2", 0), tiny_cnn_path, size=8)
        assert kd.model.default_steps_per_execution(10) == 1
        with pytest.raises(kd.DreamError, match=r"must be 1 under a tf.distribute strategy"):
            kd.train(model, 10, steps_per_execution=5)
        kd.train(model, 10)  # one step per call by default
    assert int(model.optimizer.iterations.numpy()) == 10
