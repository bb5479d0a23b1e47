import pytest
from hypothesis import given
from hypothesis import strategies as st

from nuage.protocol.consensus import log2_weight, weight
from nuage.protocol.rewards import (
    KITTY_MIN,
    KITTY_RATIO,
    WORKERPOOL_STAKE_RATIO,
    Contributor,
    Settlement,
    kitty_bonus,
    pool_stake,
    refund,
    settle,
    settle_fast,
)

RLC = 10**9


def test_constants_follow_iexec():
    assert (KITTY_RATIO, KITTY_MIN, WORKERPOOL_STAKE_RATIO) == (10, RLC, 30)


# -- kitty ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kitty", "bonus"),
    [
        (0, 0),
        (RLC // 2, RLC // 2),  # less than 1 RLC: all of it
        (5 * RLC, RLC),  # 10% is below the 1 RLC floor
        (10 * RLC, RLC),
        (100 * RLC, 10 * RLC),
        (123_456_789_012, 12_345_678_901),  # floor of 10%
    ],
)
def test_kitty_bonus(kitty, bonus):
    assert kitty_bonus(kitty) == bonus


@given(st.integers(0, 2**96))
def test_kitty_bonus_is_bounded(kitty):
    bonus = kitty_bonus(kitty)

    assert 0 <= bonus <= kitty
    assert bonus >= min(kitty, KITTY_MIN)
    assert bonus >= kitty * KITTY_RATIO // 100


# -- settle --------------------------------------------------------------------------------------


def replicated_task(**overrides) -> Settlement:
    arguments = {
        "app_price": 7,
        "dataset_price": 3,
        "workerpool_price": 100,
        "worker_stake": 30,
        "scheduler_reward_ratio": 1,
        "contributors": [
            Contributor("worker", log2_weight=1, won=True),
            Contributor("veteran", log2_weight=5, won=True),
            Contributor("attacker", log2_weight=1, won=False),
        ],
        "kitty": 5 * RLC,
        "scores": {"worker": 10, "veteran": 300, "attacker": 30},
    }
    return settle(**(arguments | overrides))


def test_settle_splits_the_pot_by_log2_weight():
    # pot 100 + 30 seized = 130; workers 130 * 99 // 100 = 128, split 1:5 -> 21 and 106
    settlement = replicated_task()

    assert settlement.worker_rewards == {"worker": 21, "veteran": 106}
    assert settlement.scheduler_reward == 130 - 21 - 106
    assert settlement.seized_stakes == {"attacker": 30}
    assert settlement.kitty_bonus == RLC
    assert (settlement.app_reward, settlement.dataset_reward) == (7, 3)


def test_settle_rewards_winners_and_punishes_losers_in_score():
    settlement = replicated_task()

    assert settlement.scores == {"worker": 11, "veteran": 301, "attacker": 20}


def test_a_contributor_without_a_known_score_starts_at_0():
    settlement = replicated_task(scores={})

    assert settlement.scores == {"worker": 1, "veteran": 1, "attacker": 0}


def test_a_lone_winner_gets_the_pot_less_the_scheduler_share_and_keeps_its_score():
    settlement = replicated_task(contributors=[Contributor("worker", 1, won=True)])

    assert settlement.worker_rewards == {"worker": 99}
    assert settlement.scheduler_reward == 1
    assert settlement.seized_stakes == {}
    assert settlement.scores == {"worker": 10}


def test_rounding_dust_goes_to_the_scheduler():
    # pot 100, ratio 0: three equal winners get 33 each, the scheduler the 1 left
    contributors = [Contributor(name, 1, won=True) for name in ("worker", "veteran", "newcomer")]

    settlement = replicated_task(contributors=contributors, scheduler_reward_ratio=0)

    assert settlement.worker_rewards == {"worker": 33, "veteran": 33, "newcomer": 33}
    assert settlement.scheduler_reward == 1


def test_settle_without_a_winner_is_refused():
    with pytest.raises(ValueError, match="no winner"):
        replicated_task(contributors=[Contributor("attacker", 1, won=False)])


def test_settle_refuses_a_worker_counted_twice():
    with pytest.raises(ValueError, match="at most once"):
        replicated_task(contributors=[Contributor("worker", 1, True)] * 2)


@pytest.mark.parametrize("ratio", [-1, 101])
def test_settle_refuses_a_ratio_outside_0_100(ratio):
    with pytest.raises(ValueError, match="scheduler_reward_ratio"):
        replicated_task(scheduler_reward_ratio=ratio)


amounts = st.integers(0, 2**96)
contributor_lists = st.lists(
    st.tuples(st.integers(0, 10_000), st.booleans()), min_size=1, max_size=8
).filter(lambda entries: any(won for _, won in entries))


@given(amounts, amounts, amounts, amounts, st.integers(0, 100), contributor_lists, amounts)
def test_settle_conserves_money(app, dataset, pool, stake, ratio, entries, kitty):
    contributors = [
        Contributor(f"worker{i}", log2_weight(weight(score)), won)
        for i, (score, won) in enumerate(entries)
    ]
    losers = sum(1 for _, won in entries if not won)

    settlement = settle(
        app_price=app,
        dataset_price=dataset,
        workerpool_price=pool,
        worker_stake=stake,
        scheduler_reward_ratio=ratio,
        contributors=contributors,
        kitty=kitty,
        scores={f"worker{i}": score for i, (score, _) in enumerate(entries)},
    )

    paid = (
        settlement.app_reward
        + settlement.dataset_reward
        + sum(settlement.worker_rewards.values())
        + settlement.scheduler_reward
    )
    assert paid == app + dataset + pool + sum(settlement.seized_stakes.values())
    assert sum(settlement.seized_stakes.values()) == stake * losers
    assert settlement.scheduler_reward >= (pool + stake * losers) * ratio // 100
    assert all(reward >= 0 for reward in settlement.worker_rewards.values())
    assert 0 <= settlement.kitty_bonus <= kitty
    assert set(settlement.scores) == {c.worker for c in contributors}


# -- fast path, claim ----------------------------------------------------------------------------


def test_settle_fast_pays_one_worker_without_stake_or_score():
    settlement = settle_fast(
        app_price=7,
        dataset_price=3,
        workerpool_price=100,
        scheduler_reward_ratio=1,
        kitty=100 * RLC,
        worker="worker",
    )

    assert settlement.worker_rewards == {"worker": 99}
    assert settlement.scheduler_reward == 1
    assert settlement.kitty_bonus == 10 * RLC
    assert (settlement.app_reward, settlement.dataset_reward) == (7, 3)
    assert settlement.seized_stakes == {}
    assert settlement.scores == {}


def test_settle_fast_files_an_unnamed_worker_under_the_empty_key():
    settlement = settle_fast(
        app_price=0, dataset_price=0, workerpool_price=7, scheduler_reward_ratio=50, kitty=0
    )

    assert settlement.worker_rewards == {"": 3}
    assert settlement.scheduler_reward == 4
    assert settlement.kitty_bonus == 0


@given(amounts, amounts, amounts, st.integers(0, 100), amounts)
def test_settle_fast_conserves_money(app, dataset, pool, ratio, kitty):
    settlement = settle_fast(
        app_price=app,
        dataset_price=dataset,
        workerpool_price=pool,
        scheduler_reward_ratio=ratio,
        kitty=kitty,
    )

    paid = (
        settlement.app_reward
        + settlement.dataset_reward
        + sum(settlement.worker_rewards.values())
        + settlement.scheduler_reward
    )
    assert paid == app + dataset + pool
    assert 0 <= settlement.kitty_bonus <= kitty


def test_refund_is_the_task_price():
    assert refund(app_price=7, dataset_price=3, workerpool_price=100) == 110


@pytest.mark.parametrize(
    ("price", "stake"), [(0, 0), (3, 0), (4, 1), (100, 30), (RLC, 3 * RLC // 10)]
)
def test_pool_stake_is_30_percent_floored(price, stake):
    assert pool_stake(price) == stake


def test_negative_amounts_are_refused():
    with pytest.raises(ValueError, match="kitty"):
        kitty_bonus(-1)
    with pytest.raises(ValueError, match="app_price"):
        refund(app_price=-1, dataset_price=0, workerpool_price=0)
