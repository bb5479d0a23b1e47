import pytest

from nuage.protocol import tags


def test_tee_is_bit_0_and_gpu_bit_8():
    assert tags.tag("tee") == (1).to_bytes(32, "big")
    assert tags.tag("gpu") == (1 << 8).to_bytes(32, "big")
    assert tags.tag("tee", "gpu") == (1 | 1 << 8).to_bytes(32, "big")


def test_no_tag_is_zero():
    assert tags.tag() == bytes(32)


def test_names_are_case_insensitive():
    assert tags.tag("TEE", "Gpu") == tags.tag("tee", "gpu")


def test_unknown_tag_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match=r"^unknown tag 'fpga': known tags are tee, gpu$"):
        tags.tag("tee", "fpga")


def test_names_lists_known_bits_only():
    reserved = (1 << 1 | 1 << 200).to_bytes(32, "big")

    assert tags.names(tags.tag("tee", "gpu")) == ["tee", "gpu"]
    assert tags.names(tags.tag("gpu")) == ["gpu"]
    assert tags.names(reserved) == []


@pytest.mark.parametrize(
    ("offered", "asked", "covered"),
    [
        (("tee", "gpu"), ("tee",), True),
        (("tee", "gpu"), ("tee", "gpu"), True),
        (("gpu",), (), True),
        ((), (), True),
        (("gpu",), ("tee",), False),
        ((), ("gpu",), False),
        (("tee",), ("tee", "gpu"), False),
    ],
)
def test_covers(offered, asked, covered):
    assert tags.covers(tags.tag(*offered), tags.tag(*asked)) is covered


def test_reserved_bits_must_be_offered_too():
    asked = (1 << 1).to_bytes(32, "big")

    assert not tags.covers(tags.tag("tee", "gpu"), asked)
    assert tags.covers(asked, asked)


def test_to_int_reads_big_endian():
    assert tags.to_int(tags.tag("gpu")) == 256
