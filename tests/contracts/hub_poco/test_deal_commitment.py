"""Hub.dealCommitment: keccak256 of a deal record's ABI encoding, as the client computes it."""

import dataclasses

import pytest

from nuage.protocol.deals import Deal as DealRecord


def changed(value):
    if isinstance(value, bytes):
        return bytes([value[0] ^ 1]) + value[1:]
    if isinstance(value, str):  # an address
        return "0x" + format(int(value, 16) ^ 1, "040x")
    return value + 1


def test_commitment_of_a_matched_deal(protocol, deal):
    commitment = protocol.hub.dealCommitment(deal.record.as_tuple())

    assert commitment == deal.record.commitment() == protocol.hub.viewDeal(deal.deal_id)


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(DealRecord)])
def test_every_field_is_committed(protocol, deal, field):
    """Change any one field and the commitment changes: no field escapes the check."""
    other = dataclasses.replace(deal.record, **{field: changed(getattr(deal.record, field))})

    commitment = protocol.hub.dealCommitment(other.as_tuple())

    assert commitment == other.commitment()
    assert commitment != deal.record.commitment()
