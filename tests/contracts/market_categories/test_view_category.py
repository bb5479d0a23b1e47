import boa
import pytest

DEPLOYED = [
    ("XS", "extra small: T = 5 minutes", 300),
    ("S", "small: T = 20 minutes", 1200),
    ("M", "medium: T = 1 hour", 3600),
    ("L", "large: T = 3 hours", 10800),
    ("XL", "extra large: T = 10 hours", 36000),
]


@pytest.mark.parametrize(
    ("index", "expected"), list(enumerate(DEPLOYED)), ids=[c[0] for c in DEPLOYED]
)
def test_deployment_creates_xs_to_xl(protocol, index, expected):
    category = protocol.market.viewCategory(index)

    assert (category.name, category.description, category.work_clock_time_ref) == expected


@pytest.mark.parametrize("index", [len(DEPLOYED), 255, 2**256 - 1])
def test_unknown_category_reverts(protocol, index):
    with boa.reverts("categories: unknown category"):
        protocol.market.viewCategory(index)


def test_created_category_becomes_visible(protocol, deployer):
    with boa.reverts("categories: unknown category"):
        protocol.market.viewCategory(len(DEPLOYED))

    with boa.env.prank(deployer.address):
        protocol.market.createCategory("XXL", "", 86_400)

    assert protocol.market.viewCategory(len(DEPLOYED)).name == "XXL"
