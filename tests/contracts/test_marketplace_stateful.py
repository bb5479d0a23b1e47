"""The marketplace as a state machine: money and order volume are never lost or stolen.

Rules act (deposits, withdrawals, RLC transfers, orders signed, presigned,
cancelled and matched, and an attacker's attempts) and keep ghost books of
what the chain should hold; invariants only read the chain and compare.
A refused call reverts with the reason the contracts give and moves nothing.
Nothing in this scope unlocks money, so a frozen balance never decreases;
every rule checks that on its way out.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boa
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from nuage.protocol import (
    ZERO_ADDRESS,
    DatasetOrder,
    Incompatibility,
    Operation,
    Order,
    check_match,
    deal_id,
    tags,
)
from tests.contracts.harness import Actor, Deal, Protocol

RLC = 10**9  # nRLC per RLC
GRANT = 150 * RLC  # each actor's starting wallet
STAKE_PERCENT = 30

HONEST = ("requester", "second_requester", "app_owner", "dataset_owner", "pool_owner")
REQUESTERS = ("requester", "second_requester")
ACTORS = {name: Actor.named(name) for name in (*HONEST, "attacker")}
ATTACKER = ACTORS["attacker"]
ELSEWHERE = "0x00000000000000000000000000000000000E15E1"  # an address no order set uses
CATEGORIES = 5  # the hub starts with XS..XL

honest = st.sampled_from(HONEST)
anyone = st.sampled_from(tuple(ACTORS))
amounts = st.integers(0, 80 * RLC)
prices = st.integers(0, 5 * RLC)
spares = st.sampled_from([0, 1, RLC])
volumes = st.integers(1, 3)
order_slot = st.integers(0, 3)


@dataclass
class Draft:
    """The fields of an order set's four orders, before they are signed."""

    app: dict[str, Any]
    dataset: dict[str, Any]
    pool: dict[str, Any]
    request: dict[str, Any]


def _raise_app_price(draft: Draft) -> None:
    draft.app["appprice"] += 1
    draft.request["appmaxprice"] = draft.app["appprice"] - 1


def _raise_dataset_price(draft: Draft) -> None:
    draft.dataset["datasetprice"] += 1
    draft.request["datasetmaxprice"] = draft.dataset["datasetprice"] - 1


def _raise_pool_price(draft: Draft) -> None:
    draft.pool["workerpoolprice"] += 1
    draft.request["workerpoolmaxprice"] = draft.pool["workerpoolprice"] - 1


def _ask_another_category(draft: Draft) -> None:
    draft.request["category"] = (draft.request["category"] + 1) % CATEGORIES


def _use_an_unknown_category(draft: Draft) -> None:
    draft.pool["category"] = draft.request["category"] = CATEGORIES


def _ask_more_trust(draft: Draft) -> None:
    draft.request["trust"] = draft.pool["trust"] + 1


def _offer_no_gpu_to_a_gpu_app(draft: Draft) -> None:
    draft.app["tag"] = tags.tag("gpu")
    draft.pool["tag"] = tags.tag()


def _ask_tee_of_a_plain_app(draft: Draft) -> None:
    draft.app["tag"] = tags.tag()
    draft.request["tag"] = tags.tag("tee")


# one deliberate incompatibility per flawed order set, keyed by the refusal it must cause
FLAWS: dict[Incompatibility, Callable[[Draft], None]] = {
    Incompatibility.APP_PRICE: _raise_app_price,
    Incompatibility.DATASET_PRICE: _raise_dataset_price,
    Incompatibility.WORKERPOOL_PRICE: _raise_pool_price,
    Incompatibility.CATEGORY_MISMATCH: _ask_another_category,
    Incompatibility.UNKNOWN_CATEGORY: _use_an_unknown_category,
    Incompatibility.TRUST_TOO_LOW: _ask_more_trust,
    Incompatibility.TAG_NOT_OFFERED: _offer_no_gpu_to_a_gpu_app,
    Incompatibility.TEE_MISMATCH: _ask_tee_of_a_plain_app,
    Incompatibility.APP_MISMATCH: lambda draft: draft.request.update(app=ELSEWHERE),
    Incompatibility.DATASET_MISMATCH: lambda draft: draft.request.update(dataset=ZERO_ADDRESS),
    Incompatibility.WORKERPOOL_MISMATCH: lambda draft: draft.request.update(workerpool=ELSEWHERE),
    Incompatibility.APP_RESTRICTS_REQUESTER: (
        lambda draft: draft.app.update(requesterrestrict=ELSEWHERE)
    ),
    Incompatibility.DATASET_RESTRICTS_APP: lambda draft: draft.dataset.update(
        apprestrict=ELSEWHERE
    ),
    Incompatibility.WORKERPOOL_RESTRICTS_REQUESTER: (
        lambda draft: draft.pool.update(requesterrestrict=ELSEWHERE)
    ),
}
FLAWS_NEEDING_A_DATASET = {
    Incompatibility.DATASET_PRICE,
    Incompatibility.DATASET_MISMATCH,
    Incompatibility.DATASET_RESTRICTS_APP,
}


@dataclass(frozen=True)
class Terms:
    """What an order set says, before it is signed (drawn by hypothesis)."""

    requester: str
    with_dataset: bool
    prices: tuple[int, int, int]  # app, dataset, workerpool
    spare: tuple[int, int, int]  # how far the request's max prices exceed them
    volumes: tuple[int, int, int, int]  # app, dataset, workerpool, request
    category: int
    trusts: tuple[int, int]  # workerpool, request
    app_tag: tuple[str, ...]
    request_tag: tuple[str, ...]
    app_restricted_to_requester: bool
    request_names_pool: bool
    unsigned: tuple[bool, bool, bool, bool]  # app, dataset, workerpool, request: presign to use
    flaw: Incompatibility | None


@st.composite
def order_terms(draw: st.DrawFn, *, flawed: bool = True) -> Terms:
    """Terms of a compatible order set, or (one time in three, if `flawed`) one with a flaw."""
    flaw = draw(st.one_of(st.none(), st.none(), st.sampled_from(tuple(FLAWS)))) if flawed else None
    app_tag = draw(st.sampled_from([(), ("gpu",), ("tee",), ("gpu", "tee")]))
    # a request may ask for TEE only of a TEE app
    request_tags = [(), ("gpu",), *([("tee",)] if "tee" in app_tag else [])]
    pool_trust = draw(st.integers(0, 2))
    return Terms(
        requester=draw(st.sampled_from(REQUESTERS)),
        with_dataset=flaw in FLAWS_NEEDING_A_DATASET or draw(st.booleans()),
        prices=(draw(prices), draw(prices), draw(prices)),
        spare=(draw(spares), draw(spares), draw(spares)),
        volumes=(draw(volumes), draw(volumes), draw(volumes), draw(volumes)),
        category=draw(st.integers(0, CATEGORIES - 1)),
        trusts=(pool_trust, draw(st.integers(0, pool_trust))),
        app_tag=app_tag,
        request_tag=draw(st.sampled_from(request_tags)),
        app_restricted_to_requester=draw(st.booleans()),
        request_names_pool=draw(st.booleans()),
        unsigned=tuple(draw(st.sampled_from([False] * 9 + [True])) for _ in range(4)),  # type: ignore[arg-type]
        flaw=flaw,
    )


@dataclass(frozen=True)
class OrderSet:
    """Four orders (the dataset one may be `DatasetOrder.none()`) and who owns each."""

    deal: Deal
    requester: str
    flaw: Incompatibility | None

    def orders(self) -> list[tuple[str, Order, str]]:
        """(kind, order, owner name) of each real order."""
        found: list[tuple[str, Order, str]] = [("app", self.deal.app, "app_owner")]
        if not self.deal.dataset.is_none:
            found.append(("dataset", self.deal.dataset, "dataset_owner"))
        found.append(("workerpool", self.deal.workerpool, "pool_owner"))
        found.append(("request", self.deal.request, self.requester))
        return found

    def pick(self, slot: int) -> tuple[str, Order, str]:
        orders = self.orders()
        return orders[slot % len(orders)]


SIGNATURE_REASONS = {
    "app": Incompatibility.APP_SIGNATURE,
    "dataset": Incompatibility.DATASET_SIGNATURE,
    "workerpool": Incompatibility.WORKERPOOL_SIGNATURE,
    "request": Incompatibility.REQUEST_SIGNATURE,
}
CONSUMED_REASONS = {
    "app": Incompatibility.APP_CONSUMED,
    "dataset": Incompatibility.DATASET_CONSUMED,
    "workerpool": Incompatibility.WORKERPOOL_CONSUMED,
    "request": Incompatibility.REQUEST_CONSUMED,
}
FUNDS_REASONS = {Incompatibility.REQUESTER_FUNDS, Incompatibility.WORKERPOOL_OWNER_FUNDS}
# what the ghost books can tell on their own; the other refusals come from the orders' terms
GHOST_REASONS = {*SIGNATURE_REASONS.values(), *CONSUMED_REASONS.values(), *FUNDS_REASONS}


@dataclass(frozen=True)
class GhostDeal:
    reasons: list[Incompatibility]
    volume: int
    cost: int
    stake: int
    bot_first: int
    deal_id: bytes


def frozen_never_decreases(step: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a rule: no account's frozen balance may be lower after it than before.

    Before the rule the chain's frozen balances are the ghost's (an invariant
    checked that after the previous step), so only the after side is read.
    """

    @functools.wraps(step)
    def checked(machine: MarketplaceMachine, **arguments: Any) -> Any:
        before = dict(machine.frozen)
        result = step(machine, **arguments)
        hub = machine.protocol.hub
        after = {name: hub.frozenOf(actor.address) for name, actor in ACTORS.items()}
        decreased = {
            name: (before[name], after[name]) for name in before if after[name] < before[name]
        }
        assert not decreased, f"frozen balances decreased (before, after): {decreased}"
        return result

    return checked


class MarketplaceMachine(RuleBasedStateMachine):
    order_sets = Bundle("order_sets")

    def __init__(self) -> None:
        super().__init__()
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        try:
            self._set_up()
        except BaseException:
            self._anchor.__exit__(None, None, None)
            raise

    def _set_up(self) -> None:
        deployer = Actor.named("deployer")
        self.protocol = Protocol.deploy(deployer)
        self.domain = self.protocol.domain
        self.app = self.protocol.new_app(ACTORS["app_owner"])
        self.dataset = self.protocol.new_dataset(ACTORS["dataset_owner"])
        self.workerpool = self.protocol.new_workerpool(ACTORS["pool_owner"])
        for actor in ACTORS.values():
            self.protocol.give_rlc(actor, GRANT)
        # ghost books, by actor name
        self.addresses = {name: actor.address for name, actor in ACTORS.items()}
        self.addresses["deployer"] = deployer.address
        self.wallet = dict.fromkeys(ACTORS, GRANT)
        self.wallet["deployer"] = self.protocol.rlc.totalSupply() - GRANT * len(ACTORS)
        self.free = dict.fromkeys(ACTORS, 0)
        self.frozen = dict.fromkeys(ACTORS, 0)
        # ghost order books, by order hash
        self.volume: dict[bytes, int] = {}
        self.consumed: dict[bytes, int] = {}
        self.presigned: dict[bytes, str] = {}

    def teardown(self) -> None:
        self._anchor.__exit__(None, None, None)

    # -- helpers -----------------------------------------------------------------

    def ghost_books(self) -> tuple[dict[Any, Any], ...]:
        return tuple(
            dict(book)
            for book in (self.wallet, self.free, self.frozen, self.consumed, self.presigned)
        )

    def refused(self, reason: str, call: Callable[[], Any]) -> None:
        """`call` reverts with `reason` and leaves the chain and the ghost books as they were
        (the invariants, checked right after the step, compare the two once more)."""
        root, books = self.protocol.state_root(), self.ghost_books()
        with boa.reverts(reason):
            call()
        assert self.protocol.state_root() == root
        assert self.ghost_books() == books
        event(f"refused: {reason}")

    def deposit_refusal(self, payer: str, amount: int) -> str | None:
        if amount == 0:
            return "escrow: zero amount"
        if amount > self.wallet[payer]:
            return "RLC: insufficient balance"
        return None

    def withdraw_refusal(self, account: str, amount: int) -> str | None:
        if amount == 0:
            return "escrow: zero amount"
        if amount > self.free[account]:
            return "escrow: insufficient free balance"
        return None

    def ghost_match(self, order_set: OrderSet) -> GhostDeal:
        """What the ghost books alone say of matching this set: the refusals they can
        see (signatures, used-up volume, funds) and the deal it would make."""
        reasons = []
        for kind, order, owner in order_set.orders():
            presigned = self.presigned.get(order.hash(self.domain)) == self.addresses[owner]
            if not order.sign and not presigned:
                reasons.append(SIGNATURE_REASONS[kind])
        remaining = {
            kind: order.volume - self.consumed[order.hash(self.domain)]
            for kind, order, _ in order_set.orders()
        }
        reasons += [CONSUMED_REASONS[kind] for kind, left in remaining.items() if left <= 0]
        deal = order_set.deal
        volume = max(0, min(remaining.values()))
        dataset_price = 0 if deal.dataset.is_none else deal.dataset.datasetprice
        cost = (deal.app.appprice + dataset_price + deal.workerpool.workerpoolprice) * volume
        stake = deal.workerpool.workerpoolprice * STAKE_PERCENT // 100 * volume
        if self.free[order_set.requester] < cost:
            reasons.append(Incompatibility.REQUESTER_FUNDS)
        if self.free["pool_owner"] < stake:
            reasons.append(Incompatibility.WORKERPOOL_OWNER_FUNDS)
        request_hash = deal.request.hash(self.domain)
        bot_first = self.consumed[request_hash]
        return GhostDeal(
            reasons=reasons,
            volume=volume,
            cost=cost,
            stake=stake,
            bot_first=bot_first,
            deal_id=deal_id(request_hash, bot_first),
        )

    def manage(self, kind: str, order: Order, operation: Operation, sign: bytes) -> None:
        market = self.protocol.market
        manage = {
            "app": market.manageAppOrder,
            "dataset": market.manageDatasetOrder,
            "workerpool": market.manageWorkerpoolOrder,
            "request": market.manageRequestOrder,
        }[kind]
        manage(order.as_tuple(), int(operation), sign)

    # -- openings: every run starts with an order set and some money in the hub --------

    @initialize(target=order_sets, terms=order_terms())
    def first_order_set(self, terms: Terms) -> OrderSet:
        return self.create_order_set(terms=terms)

    @initialize(amounts=st.tuples(*(st.integers(0, 100 * RLC) for _ in HONEST)))
    def open_accounts(self, amounts: tuple[int, ...]) -> None:
        for name, amount in zip(HONEST, amounts, strict=True):
            if amount:
                self.deposit(actor=name, amount=amount)

    # -- money ---------------------------------------------------------------------

    @rule(actor=anyone, amount=amounts)
    @frozen_never_decreases
    def deposit(self, actor: str, amount: int) -> None:
        rlc, hub = self.protocol.rlc, self.protocol.hub
        with boa.env.prank(self.addresses[actor]):
            rlc.approve(hub.address, amount)
            reason = self.deposit_refusal(actor, amount)
            if reason is not None:
                self.refused(reason, lambda: hub.deposit(amount))
                return
            hub.deposit(amount)
        self.wallet[actor] -= amount
        self.free[actor] += amount

    @rule(actor=anyone, amount=amounts)
    @frozen_never_decreases
    def deposit_with_approve_and_call(self, actor: str, amount: int) -> None:
        rlc, hub = self.protocol.rlc, self.protocol.hub
        with boa.env.prank(self.addresses[actor]):
            reason = self.deposit_refusal(actor, amount)
            if reason is not None:
                self.refused(reason, lambda: rlc.approveAndCall(hub.address, amount, b""))
                return
            rlc.approveAndCall(hub.address, amount, b"")
        self.wallet[actor] -= amount
        self.free[actor] += amount

    @rule(payer=honest, account=honest, amount=amounts)
    @frozen_never_decreases
    def deposit_for(self, payer: str, account: str, amount: int) -> None:
        rlc, hub = self.protocol.rlc, self.protocol.hub
        with boa.env.prank(self.addresses[payer]):
            rlc.approve(hub.address, amount)
            reason = self.deposit_refusal(payer, amount)
            if reason is not None:
                self.refused(reason, lambda: hub.depositFor(amount, self.addresses[account]))
                return
            hub.depositFor(amount, self.addresses[account])
        self.wallet[payer] -= amount
        self.free[account] += amount

    @rule(actor=anyone, amount=amounts)
    @frozen_never_decreases
    def withdraw(self, actor: str, amount: int) -> None:
        hub = self.protocol.hub
        with boa.env.prank(self.addresses[actor]):
            reason = self.withdraw_refusal(actor, amount)
            if reason is not None:
                self.refused(reason, lambda: hub.withdraw(amount))
                return
            hub.withdraw(amount)
        self.free[actor] -= amount
        self.wallet[actor] += amount

    @rule(actor=honest, receiver=honest, amount=amounts)
    @frozen_never_decreases
    def withdraw_to(self, actor: str, receiver: str, amount: int) -> None:
        hub = self.protocol.hub
        with boa.env.prank(self.addresses[actor]):
            reason = self.withdraw_refusal(actor, amount)
            if reason is not None:
                self.refused(reason, lambda: hub.withdrawTo(amount, self.addresses[receiver]))
                return
            hub.withdrawTo(amount, self.addresses[receiver])
        self.free[actor] -= amount
        self.wallet[receiver] += amount

    @rule(sender=honest, receiver=honest, amount=amounts)
    @frozen_never_decreases
    def transfer_rlc(self, sender: str, receiver: str, amount: int) -> None:
        rlc = self.protocol.rlc
        with boa.env.prank(self.addresses[sender]):
            if amount > self.wallet[sender]:
                self.refused(
                    "RLC: insufficient balance",
                    lambda: rlc.transfer(self.addresses[receiver], amount),
                )
                return
            rlc.transfer(self.addresses[receiver], amount)
        self.wallet[sender] -= amount
        self.wallet[receiver] += amount

    # -- orders ----------------------------------------------------------------------

    @rule(target=order_sets, terms=order_terms())
    @frozen_never_decreases
    def create_order_set(self, terms: Terms) -> OrderSet:
        app_price, dataset_price, pool_price = terms.prices
        app_volume, dataset_volume, pool_volume, request_volume = terms.volumes
        requester = ACTORS[terms.requester]
        draft = Draft(
            app={
                "appprice": app_price,
                "volume": app_volume,
                "tag": tags.tag(*terms.app_tag),
                "requesterrestrict": (
                    requester.address if terms.app_restricted_to_requester else ZERO_ADDRESS
                ),
            },
            dataset={"datasetprice": dataset_price, "volume": dataset_volume},
            pool={
                "workerpoolprice": pool_price,
                "volume": pool_volume,
                "tag": tags.tag("gpu", "tee"),
                "category": terms.category,
                "trust": terms.trusts[0],
            },
            request={
                "app": self.app,
                "appmaxprice": app_price + terms.spare[0],
                "dataset": self.dataset if terms.with_dataset else ZERO_ADDRESS,
                "datasetmaxprice": dataset_price + terms.spare[1],
                "workerpool": self.workerpool if terms.request_names_pool else ZERO_ADDRESS,
                "workerpoolmaxprice": pool_price + terms.spare[2],
                "volume": request_volume,
                "tag": tags.tag(*terms.request_tag),
                "category": terms.category,
                "trust": terms.trusts[1],
            },
        )
        if terms.flaw is not None:
            FLAWS[terms.flaw](draft)

        protocol = self.protocol
        dataset = DatasetOrder.none()
        if terms.with_dataset:
            dataset = protocol.dataset_order(self.dataset, ACTORS["dataset_owner"], **draft.dataset)
        orders: list[Order] = [
            protocol.app_order(self.app, ACTORS["app_owner"], **draft.app),
            dataset,
            protocol.workerpool_order(self.workerpool, ACTORS["pool_owner"], **draft.pool),
            protocol.request_order(draft.request.pop("app"), requester, **draft.request),
        ]
        # an unsigned order matches only once its owner presigns it
        app, dataset, pool, request = (
            dataclasses.replace(order, sign=b"") if unsigned else order
            for order, unsigned in zip(orders, terms.unsigned, strict=True)
        )
        deal = Deal(app=app, dataset=dataset, workerpool=pool, request=request)  # type: ignore[arg-type]
        order_set = OrderSet(deal=deal, requester=terms.requester, flaw=terms.flaw)
        for _, order, _ in order_set.orders():
            order_hash = order.hash(self.domain)
            self.volume[order_hash] = order.volume
            self.consumed.setdefault(order_hash, 0)
        return order_set

    @rule(order_set=order_sets, slot=order_slot, relayer=st.none() | anyone)
    @frozen_never_decreases
    def presign(self, order_set: OrderSet, slot: int, relayer: str | None) -> None:
        """The owner presigns, as the caller or through a relayer carrying its signature."""
        kind, order, owner = order_set.pick(slot)
        sign = b""
        if relayer is not None:
            sign = order.sign_operation(Operation.SIGN, ACTORS[owner].key, self.domain)
        with boa.env.prank(self.addresses[relayer or owner]):
            self.manage(kind, order, Operation.SIGN, sign)
        self.presigned[order.hash(self.domain)] = self.addresses[owner]

    @rule(order_set=order_sets, slot=order_slot, relayer=st.none() | anyone)
    @frozen_never_decreases
    def cancel(self, order_set: OrderSet, slot: int, relayer: str | None) -> None:
        kind, order, owner = order_set.pick(slot)
        sign = b""
        if relayer is not None:
            sign = order.sign_operation(Operation.CLOSE, ACTORS[owner].key, self.domain)
        with boa.env.prank(self.addresses[relayer or owner]):
            self.manage(kind, order, Operation.CLOSE, sign)
        order_hash = order.hash(self.domain)
        self.consumed[order_hash] = max(self.consumed[order_hash], order.volume)

    @rule(order_set=order_sets, sender=anyone)
    @frozen_never_decreases
    def match(self, order_set: OrderSet, sender: str) -> None:
        """The off-chain verdict says whether and why; the ghost books and the chain agree."""
        deal = order_set.deal
        verdict = check_match(
            deal.app, deal.dataset, deal.workerpool, deal.request, self.protocol.facts(deal)
        )
        expected = self.ghost_match(order_set)
        checked_by_ghost = [reason for reason in verdict.reasons if reason in GHOST_REASONS]
        assert checked_by_ghost == expected.reasons
        if order_set.flaw is None:
            assert list(verdict.reasons) == expected.reasons
        else:
            assert order_set.flaw in verdict.reasons
        if not verdict.ok:
            self.refused(
                str(verdict.revert_reason), lambda: self.protocol.match(deal, ACTORS[sender])
            )
            assert self.protocol.hub.viewDeal(verdict.deal_id) == bytes(32)  # no deal
            return

        assert (verdict.volume, verdict.cost, verdict.stake, verdict.deal_id) == (
            expected.volume,
            expected.cost,
            expected.stake,
            expected.deal_id,
        )
        deal_id, made = self.protocol.match_record(deal, ACTORS[sender])
        assert deal_id == expected.deal_id
        assert self.protocol.hub.viewDeal(deal_id) == made.commitment()
        assert (made.requester, made.bot_first, made.bot_size) == (
            self.addresses[order_set.requester],
            expected.bot_first,
            expected.volume,
        )
        event("match: deal made")
        requester = order_set.requester
        self.free[requester] -= expected.cost
        self.frozen[requester] += expected.cost
        self.free["pool_owner"] -= expected.stake
        self.frozen["pool_owner"] += expected.stake
        for _, order, _ in order_set.orders():
            self.consumed[order.hash(self.domain)] += expected.volume

    @rule(order_set=order_sets, sender=anyone)
    @frozen_never_decreases
    def top_up_and_match(self, order_set: OrderSet, sender: str) -> None:
        """What a client does before sending: presign what is unsigned, deposit what is
        missing (from the wallet, if it holds enough), then match."""
        for slot, (_, order, owner) in enumerate(order_set.orders()):
            if (
                not order.sign
                and self.presigned.get(order.hash(self.domain)) != self.addresses[owner]
            ):
                self.presign(order_set=order_set, slot=slot, relayer=None)
        needed = self.ghost_match(order_set)
        for payer, amount in ((order_set.requester, needed.cost), ("pool_owner", needed.stake)):
            missing = amount - self.free[payer]
            if 0 < missing <= self.wallet[payer]:
                self.deposit(actor=payer, amount=missing)
        self.match(order_set=order_set, sender=sender)

    @rule(target=order_sets, terms=order_terms(flawed=False), sender=anyone)
    @frozen_never_decreases
    def make_a_deal(self, terms: Terms, sender: str) -> OrderSet:
        """A compatible order set, topped up and matched at once."""
        order_set = self.create_order_set(terms=terms)
        self.top_up_and_match(order_set=order_set, sender=sender)
        return order_set

    # -- the attacker ----------------------------------------------------------------------

    @rule(victim=honest, to_himself=st.booleans())
    @frozen_never_decreases
    def attacker_withdraws_beyond_his_balance(self, victim: str, to_himself: bool) -> None:
        """Withdrawing only ever spends the caller's own free balance, whoever else has some."""
        hub = self.protocol.hub
        amount = max(self.free[victim], self.free["attacker"] + 1)
        with boa.env.prank(ATTACKER.address):
            if to_himself:
                self.refused(
                    "escrow: insufficient free balance",
                    lambda: hub.withdrawTo(amount, ATTACKER.address),
                )
            else:
                self.refused("escrow: insufficient free balance", lambda: hub.withdraw(amount))

    @rule(
        order_set=order_sets,
        slot=order_slot,
        operation=st.sampled_from(Operation),
        own_signature=st.booleans(),
    )
    @frozen_never_decreases
    def attacker_manages_an_order_he_does_not_own(
        self, order_set: OrderSet, slot: int, operation: Operation, own_signature: bool
    ) -> None:
        kind, order, _ = order_set.pick(slot)
        sign = order.sign_operation(operation, ATTACKER.key, self.domain) if own_signature else b""
        with boa.env.prank(ATTACKER.address):
            self.refused("orders: not the owner", lambda: self.manage(kind, order, operation, sign))

    @rule(order_set=order_sets, redirect_results=st.booleans())
    @frozen_never_decreases
    def attacker_signs_a_requesters_order(
        self, order_set: OrderSet, redirect_results: bool
    ) -> None:
        """Another requester's request order (maybe made to benefit him), signed by the attacker."""
        request = order_set.deal.request
        if redirect_results:
            request = dataclasses.replace(request, beneficiary=ATTACKER.address)
        forged = dataclasses.replace(
            order_set.deal, request=request.signed(ATTACKER.key, self.domain)
        )
        verdict = check_match(
            forged.app,
            forged.dataset,
            forged.workerpool,
            forged.request,
            self.protocol.facts(forged),
        )
        assert Incompatibility.REQUEST_SIGNATURE in verdict.reasons
        self.refused(str(verdict.revert_reason), lambda: self.protocol.match(forged, ATTACKER))

    @rule(victim=honest, amount=st.integers(1, GRANT))
    @frozen_never_decreases
    def attacker_transfers_from_without_allowance(self, victim: str, amount: int) -> None:
        rlc = self.protocol.rlc
        with boa.env.prank(ATTACKER.address):
            self.refused(
                "RLC: insufficient allowance",
                lambda: rlc.transferFrom(self.addresses[victim], ATTACKER.address, amount),
            )

    @rule(victim=honest, amount=st.integers(1, GRANT))
    @frozen_never_decreases
    def attacker_deposits_a_victims_rlc(self, victim: str, amount: int) -> None:
        """Posing as the token to pull a victim's RLC into the attacker's account."""
        hub, rlc = self.protocol.hub, self.protocol.rlc
        with boa.env.prank(ATTACKER.address):
            self.refused(
                "escrow: only the token",
                lambda: hub.receiveApproval(self.addresses[victim], amount, rlc.address, b""),
            )

    # -- invariants: read the chain, compare, change nothing ---------------------------------

    @invariant()
    def hub_holds_every_account(self) -> None:
        hub, rlc = self.protocol.hub, self.protocol.rlc
        held = sum(hub.balanceOf(a) + hub.frozenOf(a) for a in self.addresses.values())
        assert held == rlc.balanceOf(hub.address)

    @invariant()
    def hub_accounts_match_ghost(self) -> None:
        for name, actor in ACTORS.items():
            assert self.protocol.account(actor) == (self.free[name], self.frozen[name]), name

    @invariant()
    def wallets_match_ghost(self) -> None:
        rlc = self.protocol.rlc
        for name, address in self.addresses.items():
            assert rlc.balanceOf(address) == self.wallet[name], name

    @invariant()
    def supply_is_conserved(self) -> None:
        rlc = self.protocol.rlc
        wallets = sum(rlc.balanceOf(address) for address in self.addresses.values())
        assert wallets + rlc.balanceOf(self.protocol.hub.address) == rlc.totalSupply()

    @invariant()
    def consumed_matches_ghost_within_volume(self) -> None:
        market = self.protocol.market
        for order_hash, consumed in self.consumed.items():
            on_chain = market.viewConsumed(order_hash)
            assert on_chain == consumed, order_hash.hex()
            assert on_chain <= self.volume[order_hash], order_hash.hex()

    @invariant()
    def presigned_matches_ghost(self) -> None:
        market = self.protocol.market
        for order_hash in self.volume:
            expected = self.presigned.get(order_hash, ZERO_ADDRESS)
            assert str(market.viewPresigned(order_hash)) == expected, order_hash.hex()

    @invariant()
    def attacker_never_gains(self) -> None:
        """Nobody pays the attacker, so what he owns (wallet + hub) stays what he was given."""
        free, frozen = self.protocol.account(ATTACKER)
        assert self.protocol.rlc.balanceOf(ATTACKER.address) + free + frozen == GRANT


MarketplaceMachine.TestCase.settings = settings(
    settings.default,
    max_examples=max(1, settings.default.max_examples // 4),  # 10 under the ci profile
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestMarketplace = MarketplaceMachine.TestCase
