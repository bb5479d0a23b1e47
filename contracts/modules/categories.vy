# pragma version 0.4.3
"""
@title Categories of work
@license Apache-2.0
@notice A category names a size of task and its work-clock time reference
        T (seconds), from which task deadlines derive: contributions within
        7T of the deal's start, reveals within 2T of consensus, final
        deadline 10T (a deal carries its category's T to the hub). XS, S,
        M, L and XL are created at deployment; the market's owner may add
        more, up to 256: a bound on what clients must list, far above any
        real need.
"""

from modules import ownable

uses: ownable

MAX_CATEGORIES: constant(uint256) = 256


struct Category:
    name: String[64]
    description: String[256]
    work_clock_time_ref: uint256


event CategoryCreated:
    category: indexed(uint256)
    name: String[64]
    description: String[256]
    work_clock_time_ref: uint256


_categories: HashMap[uint256, Category]
_time_refs: HashMap[uint256, uint256]
_count: uint256


@deploy
def __init__():
    self._create("XS", "extra small: T = 5 minutes", 300)
    self._create("S", "small: T = 20 minutes", 1200)
    self._create("M", "medium: T = 1 hour", 3600)
    self._create("L", "large: T = 3 hours", 10800)
    self._create("XL", "extra large: T = 10 hours", 36000)


@external
def createCategory(name: String[64], description: String[256], work_clock_time_ref: uint256) -> uint256:
    """
    @notice Adds a category and returns its index.
    @dev Only the hub's owner.
    @param work_clock_time_ref T in seconds; must be positive.
    """
    ownable._check_owner()
    assert work_clock_time_ref > 0, "categories: zero time reference"
    assert self._count < MAX_CATEGORIES, "categories: too many"
    return self._create(name, description, work_clock_time_ref)


@external
@view
def viewCategory(category: uint256) -> Category:
    """
    @notice The category at index `category`; reverts when there is none.
    """
    assert category < self._count, "categories: unknown category"
    return self._categories[category]


@external
@view
def countCategory() -> uint256:
    """
    @notice How many categories exist (indices 0 .. count - 1).
    """
    return self._count


@internal
def _create(name: String[64], description: String[256], work_clock_time_ref: uint256) -> uint256:
    index: uint256 = self._count
    self._categories[index] = Category(
        name=name, description=description, work_clock_time_ref=work_clock_time_ref
    )
    self._time_refs[index] = work_clock_time_ref
    self._count = index + 1
    log CategoryCreated(
        category=index, name=name, description=description, work_clock_time_ref=work_clock_time_ref
    )
    return index
