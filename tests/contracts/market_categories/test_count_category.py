import boa


def test_five_categories_at_deployment(protocol):
    assert protocol.market.countCategory() == 5


def test_count_follows_creations(protocol, deployer):
    with boa.env.prank(deployer.address):
        protocol.market.createCategory("XXL", "", 86_400)
        protocol.market.createCategory("XXXL", "", 864_000)

    assert protocol.market.countCategory() == 7


def test_refused_creation_does_not_count(protocol, attacker):
    with boa.env.prank(attacker.address), boa.reverts("ownable: not the owner"):
        protocol.market.createCategory("XXL", "", 86_400)

    assert protocol.market.countCategory() == 5
