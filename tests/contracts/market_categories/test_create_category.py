from dataclasses import replace

import boa

MAX_CATEGORIES = 256
DEPLOYED = 5


def test_owner_creates_a_category(protocol, deployer):
    with boa.env.prank(deployer.address):
        index = protocol.market.createCategory("XXL", "extra extra large: T = 1 day", 86_400)
    [created] = [
        log for log in protocol.market.get_logs() if type(log).__name__ == "CategoryCreated"
    ]

    assert index == DEPLOYED
    assert (
        created.category,
        created.name,
        created.description,
        created.work_clock_time_ref,
    ) == (DEPLOYED, "XXL", "extra extra large: T = 1 day", 86_400)
    assert tuple(protocol.market.viewCategory(index)) == (
        "XXL",
        "extra extra large: T = 1 day",
        86_400,
    )
    assert protocol.market.countCategory() == DEPLOYED + 1


def test_indices_follow_creation_order(protocol, deployer):
    with boa.env.prank(deployer.address):
        first = protocol.market.createCategory("A", "", 1)
        second = protocol.market.createCategory("B", "", 2)

    assert (first, second) == (DEPLOYED, DEPLOYED + 1)
    assert protocol.market.viewCategory(second).work_clock_time_ref == 2


def test_deal_can_use_a_new_category(protocol, deployer, requester, app_owner, pool_owner):
    with boa.env.prank(deployer.address):
        category = protocol.market.createCategory("XXL", "", 86_400)
    deal = protocol.ready_deal(requester=requester, app_owner=app_owner, pool_owner=pool_owner)
    deal.workerpool = replace(deal.workerpool, category=category).signed(
        pool_owner.key, protocol.domain
    )
    deal.request = replace(deal.request, category=category).signed(requester.key, protocol.domain)

    deal_id, record = protocol.match_record(deal)

    assert (record.category, record.time_ref) == (category, 86_400)
    assert protocol.hub.viewDeal(deal_id) == record.commitment()


def test_stranger_reverts(protocol, attacker):
    root = protocol.state_root()

    with boa.env.prank(attacker.address), boa.reverts("ownable: not the owner"):
        protocol.market.createCategory("XXL", "", 86_400)

    assert protocol.state_root() == root
    assert protocol.market.countCategory() == DEPLOYED


def test_zero_time_reference_reverts(protocol, deployer):
    root = protocol.state_root()

    with boa.env.prank(deployer.address), boa.reverts("categories: zero time reference"):
        protocol.market.createCategory("instant", "", 0)

    assert protocol.state_root() == root


def test_257th_category_reverts(protocol, deployer):
    """The market keeps at most 256 categories."""
    with boa.env.prank(deployer.address):
        for i in range(MAX_CATEGORIES - DEPLOYED):
            protocol.market.createCategory(f"C{i}", "", 60)
    assert protocol.market.countCategory() == MAX_CATEGORIES
    assert (
        protocol.market.viewCategory(MAX_CATEGORIES - 1).name == f"C{MAX_CATEGORIES - DEPLOYED - 1}"
    )
    root = protocol.state_root()

    with boa.env.prank(deployer.address), boa.reverts("categories: too many"):
        protocol.market.createCategory("one too many", "", 60)

    assert protocol.state_root() == root
    assert protocol.market.countCategory() == MAX_CATEGORIES
