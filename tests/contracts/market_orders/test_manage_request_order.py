import dataclasses

import pytest

from nuage.protocol import ZERO_ADDRESS, Operation
from tests.contracts.market_orders._helpers import REQUEST, ManageOrderContract


class TestManageRequestOrder(ManageOrderContract):
    KIND = REQUEST

    @pytest.mark.parametrize("operation", list(Operation))
    def test_zero_requester_reverts(self, protocol, order, attacker, operation):
        nobody = dataclasses.replace(order, requester=ZERO_ADDRESS)
        self.assert_refused(protocol, nobody, operation, b"", attacker, "orders: no requester")

    def test_zero_requester_reverts_whatever_the_signature(self, protocol, order, attacker):
        """Garbage recovers to the zero address: it must not pass for the zero requester."""
        nobody = dataclasses.replace(order, requester=ZERO_ADDRESS)
        garbage = bytes(64) + b"\x1b"
        self.assert_refused(
            protocol, nobody, Operation.CLOSE, garbage, attacker, "orders: no requester"
        )

    def test_app_owner_cannot_cancel_a_request_for_his_app(self, protocol, order, app_owner):
        self.assert_refused(
            protocol, order, Operation.CLOSE, b"", app_owner, "orders: not the owner"
        )
