"""tf.distribute: dreams split across 2 logical CPU devices, same images as on one."""

import subprocess
import sys

import pytest

from kerasdream.network import distribute
from kerasdream.cli.commands import main
from kerasdream.errors import DreamError


def filters_args(model, out, *extra):
    # Five filters on two replicas: the last chunk is padded to an even batch.
    return ["filters", "--model", model, "--layer", "relu2", "--filters", "0-4", "--size", "16",
            "--steps", "20", "--out", str(out), "--models-dir", str(out / "models"), "--quiet",
            *extra]


# In a fresh process (the CPU is split before TensorFlow starts): the command's
# two-replica gallery, then how the mirrored strategy splits a batch of 4 dreams.
TWO_REPLICAS = """
import sys
import kerasdream as kd
from kerasdream.cli.commands import main
from kerasdream.network import distribute
assert main({args!r}) == 0
strategy = distribute.get_strategy("mirrored")
with strategy.scope():
    model = kd.DreamModel(kd.Channel("relu2", [0, 1, 2, 3]), {model!r}, size=16)
    model.compile(optimizer="sgd")
dataset = strategy.experimental_distribute_dataset(kd.model.dream_dataset(4))
batch = next(iter(dataset))
print("split", strategy.num_replicas_in_sync,
      [int(t.shape[0]) for t in strategy.experimental_local_results(batch)])
"""


@pytest.mark.slow
def test_two_replicas_split_the_batch_and_give_the_same_images_as_one_device(tiny_cnn_path,
                                                                            tmp_path):
    assert main(filters_args(tiny_cnn_path, tmp_path / "one")) == 0  # one device, here
    two = filters_args(tiny_cnn_path, tmp_path / "two", "--strategy", "mirrored",
                       "--cpu-devices", "2")
    done = subprocess.run([sys.executable, "-c", TWO_REPLICAS.format(args=two,
                                                                     model=tiny_cnn_path)],
                          check=True, capture_output=True, text=True)
    assert "num_replicas_in_sync" not in done.stdout  # quiet run, just the summary
    assert done.stdout.split()[-4:] == ["split", "2", "[2,", "2]"]  # each replica: 2 dreams
    for k in range(5):
        one = (tmp_path / "one" / "relu2" / f"filter_{k}.png").read_bytes()
        two = (tmp_path / "two" / "relu2" / f"filter_{k}.png").read_bytes()
        assert one == two, f"filter {k} differs"


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
