"""A layer's one-line summary and whether a run failed, counted by hand."""

from kerasdream.runs.results import FilterResult, all_failed, summarize


def result(k, rank=1, robust=1, ratio=None, status="ok"):
    return FilterResult(filter=k, start_activation=0.0, final_activation=1.0, rank=rank,
                        steps=10, wall_seconds=0.1, status=status, robust_rank=robust,
                        robust_natural_ratio=ratio)


def test_summary_counts_ranks_median_ratio_and_failures():
    results = [result(0, ratio=1.0), result(1, rank=2, robust=3, ratio=2.0),
               result(2, ratio=4.0, status="dead"), result(3, ratio=5.0, status="saturated: x"),
               result(4, rank=2, status="non-finite by step 3")]
    # ranks 1: filters 0, 2, 3; robust 1: 0, 2, 3, 4; median of 1, 2, 4, 5 = 3.
    assert summarize("relu2", results, cap=6.0) == (
        "relu2: 3 of 5 dreams excite their own filter more than any other channel of the "
        "layer (4 of 5 still do when shifted, scaled or rotated a little; a tie at a ReLU6 "
        "cap counts); median 3.00x the filter's strongest response to real photos; "
        "1 saturated to 0 and 255 (try a smaller learning rate); 1 dead (the filter never "
        "fired: no gradient reached its dream); 1 stopped early on non-finite values.")


def test_summary_without_ratios_or_failures():
    assert summarize("c", [result(0)], cap=6.0) == (
        "c: 1 of 1 dreams excite their own filter more than any other channel of the layer "
        "(1 of 1 still do when shifted, scaled or rotated a little; a tie at a ReLU6 cap "
        "counts).")


def test_a_run_failed_only_when_no_dream_finished():
    assert not all_failed({})
    assert all_failed({"a": [result(0, status="non-finite by step 2")]})
    assert not all_failed({"a": [result(0, status="non-finite by step 2")],
                           "b": [result(1, status="dead")]})


def test_a_result_from_its_record_ignores_the_record_s_other_fields():
    record = {**result(3).as_dict(), "settings": {"seed": 0}, "png_sha256": "ab"}
    assert FilterResult.from_record(record) == result(3)


def test_the_summary_says_what_applies_to_the_network_at_hand():
    results = [result(0, ratio=2.0), result(1, status="constant")]
    plain = summarize("relu2", results)
    assert "ReLU" not in plain and "cap" not in plain  # no capped ReLU: no tie at a cap
    assert plain == (
        "relu2: 2 of 2 dreams excite their own filter more than any other channel of the layer "
        "(2 of 2 still do when shifted, scaled or rotated a little); median 2.00x the filter's "
        "strongest response to real photos; 1 constant (the filter ignores its input: the "
        "same output for every image, so its dream shows nothing of it).")
    assert "a tie at its ReLU cap of 4 counts)" in summarize("relu2", results, cap=4.0)
    grey = summarize("relu2", results, grayscale=True)
    assert "real photos" not in grey and "2.00x" not in grey
    assert ("; not compared with photos (skimage's are in colour and this network takes "
            "grayscale images: give --examples a folder of its own)") in grey
    # With the user's own photos, grey or not, the ratio is against them and says so.
    own = summarize("relu2", results, grayscale=True, photos="your 3 photos of /data/digits")
    assert "not compared" not in own
    assert "; median 2.00x the filter's strongest response to your 3 photos of /data/digits;" in own
    assert not all_failed({"a": [result(0, status="constant")]})


def test_the_summary_counts_dreams_off_the_natural_path():
    """Two of three flagged, one unchecked (None) not counted."""
    results = [result(0), result(1), result(2)]
    results[0].off_path, results[1].off_path = True, True
    assert summarize("c", results).endswith(
        "rotated a little); 2 off the natural path (below the layer, their activations are less like "
        "any real photo's than photos' are like each other's: do not trust what they show).")
    results[0].off_path = results[1].off_path = False
    assert "natural path" not in summarize("c", results)
