"""`viewResult`: a completed task's results; every other task reverts."""

import boa
import pytest

from tests.contracts.hub_poco._helpers import FINAL_DELAY
from tests.contracts.hub_poco._settle_helpers import (
    CALLBACK_DIGEST,
    RESULTS,
    claim,
    fast_complete,
    finalize,
    open_settled_deal,
    revealed_task,
)


@pytest.fixture
def deal(protocol, requester, app_owner, pool_owner):
    return open_settled_deal(
        protocol, requester=requester, app_owner=app_owner, pool_owner=pool_owner, trust=3
    )


def test_finalized_task_shows_its_results(deal, workers):
    revealed_task(deal, workers[:2])
    finalize(deal, workers[:2], results=RESULTS)

    assert deal.hub.viewResult(deal.task_id()) == RESULTS


def test_fast_completed_task_shows_its_results(protocol, requester, app_owner, pool_owner, worker):
    deal = open_settled_deal(
        protocol, requester=requester, app_owner=app_owner, pool_owner=pool_owner, trust=1
    )
    fast_complete(deal, worker, results=b"\x0b" * 32)

    assert deal.hub.viewResult(deal.task_id()) == b"\x0b" * 32


def not_completed(deal):
    with boa.reverts("poco: task not completed"):
        deal.hub.viewResult(deal.task_id())


def test_unknown_task_reverts(deal):
    not_completed(deal)


def test_active_task_reverts(deal, workers):
    deal.initialize()
    deal.contribute(workers[0], CALLBACK_DIGEST)

    not_completed(deal)


def test_revealed_task_not_yet_finalized_reverts(deal, workers):
    revealed_task(deal, workers[:2])

    not_completed(deal)


def test_failed_task_reverts(deal, workers):
    revealed_task(deal, workers[:2])
    boa.env.time_travel(seconds=FINAL_DELAY)
    claim(deal, workers[:2])

    not_completed(deal)
