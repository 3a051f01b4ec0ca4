"""Enforcing a grant's limits on the chat path: reserve before the provider call, settle after.

    gate = LimitGate(store, PriceTable.load(data_dir))
    outcome = await gate.reserve(grant_id, provider_id, kind, model, body, len(raw_body))
    if isinstance(outcome, Refusal): answer outcome.status with outcome.message(manage_url)
    ... call the provider, answer with outcome.headers() ...
    gate.settle(outcome, prompt_tokens, completion_tokens, cached_tokens)   # always, once

**What is reserved.** For each cap of the grant and of its provider connection, an estimate:
1 request; prompt tokens = request body bytes / 4 (the usual chars-per-token rule of thumb,
rounded up; it counts JSON syntax too, so it leans high, and a base64 image counts as text,
far above what providers bill for it) plus output tokens = `max_completion_tokens` or
`max_tokens` (x `n`), else the model's `default_output_tokens` from the price table, else
DEFAULT_OUTPUT_TOKENS; spend = that estimate at the model's price (services/pricing.py). A
model with no known price skips the spend caps (spend "unknown"); token and request caps
still apply. If any cap cannot take its share, nothing is reserved and the call is refused
(`Refusal`: which cap, when it resets). Settling replaces the estimate by the real usage;
a call settled with less gives the difference back. A call can only overshoot a cap by what
its real usage exceeds its estimate: concurrent calls cannot overshoot together, because each
holds its own reservation.

**Why leases, not one transaction per call** (measured by `bench/limits_micro.py`). Caps must
hold across processes (`serve --workers N`), so the truth is in the database (m0008:
`limit_counter.used` + `limit_lease`), changed only in `BEGIN IMMEDIATE` transactions
(services/limit_ledger.py). A durable transaction per call, even shared through group commit,
costs an fsync wait and a trip through the commit thread on every request, more than the
chat path's whole budget for limits. So each process takes *leases*: budget out of a counter,
recorded in the database, that it then hands to calls from memory. Reserve and settle are
then dictionary arithmetic; the database is touched only to refill a lease, and by a
background `flush()` (FLUSH_INTERVAL) that reports settled consumption, renews live leases
(LEASE_TTL, so a crashed process's budget frees itself) and gives back budget a process has
not needed for IDLE_RETURN seconds. Leases run ahead of demand only while the cap has ample
room (limit_ledger.CHUNK_HEADROOM): near a cap each reservation is its own transaction, so
the last units are exact and no process strands budget another needs. Refusals are
remembered for DENY_MEMO seconds so a flood of over-limit calls does not hammer the
database. Grants without limits cost one dictionary lookup. A call is refused only when the
database refuses a refill (`_take_with_refill`), never because a cap it fitted on arrival was
spent or given back while it waited for another cap's refill.

**Failover.** A call moving to a fallback connection (`move`, api/limit_failover.py) settles
its failed attempt and reserves again against the grant's token and spend caps at the
fallback's price and against the fallback connection's own caps; the request is counted once.

Consumption settled but not yet flushed (at most FLUSH_INTERVAL's worth) is lost if the
process dies; its leases then expire. Windows are fixed UTC windows (limit_periods.py).
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping

from .limit_ledger import LimitConfig, LimitRule, SyncItem, current_usage, load_config, release_holder, sync_leases
from .limit_reservation import (CHARS_PER_TOKEN, DEFAULT_OUTPUT_TOKENS, METRIC_INDEX, UNLIMITED, Estimate, HeaderSpec,
                                Refusal, Reservation, describe, estimate)
from .pricing import Price, PriceTable, price_for

__all__ = ["CHARS_PER_TOKEN", "DEFAULT_OUTPUT_TOKENS", "UNLIMITED", "Estimate", "LimitGate", "Refusal", "Reservation",
           "describe", "estimate"]

LEASE_TTL = 30.0
FLUSH_INTERVAL = 0.5
IDLE_RETURN = 1.0
DENY_MEMO = 0.25
MAX_REFILL_ROUNDS = 8  # a call whose parts others keep spending is refused after this many syncs


class _Lease:
    """This process's share of one counter window. DB lease amount == budget + held + pending."""

    __slots__ = ("key", "start", "end", "cap", "budget", "held", "pending", "free", "synced_at", "last_demand", "denied_at",
                 "denied_want", "recheck", "retired")

    def __init__(self, key: tuple, cap: int):
        self.key, self.cap = key, cap
        self.start, self.end = key[4], key[5]  # the window, epoch seconds
        self.budget = 0  # leased, not handed to any call (negative after an overshoot)
        self.held = 0  # reserved by calls in flight
        self.pending = 0  # consumed by settled calls, not yet reported
        self.free = cap  # what the database had free beyond our lease at the last sync
        self.synced_at = 0.0
        self.last_demand = 0.0
        self.denied_at = -1e18
        self.denied_want = 0
        self.recheck = False  # the cap changed: give the budget back and ask again
        self.retired = False  # dropped by flush(): a plan holding it must look the lease up again




class _Slot:
    """One cap of a plan: its rule, its metric's index, its OpenAI headers (grant request and
    token caps only), and the lease of the window it last charged."""

    __slots__ = ("rule", "index", "header", "lease")

    def __init__(self, rule: LimitRule):
        self.rule = rule
        self.index = METRIC_INDEX[rule.metric]
        self.header = HeaderSpec.of(rule)
        self.lease: _Lease | None = None


class _Plan:
    """A grant's caps as the hot path walks them, with each cap's lease for the current window."""

    __slots__ = ("config", "slots", "prices")

    def __init__(self, config: LimitConfig):
        self.config = config
        self.slots = [_Slot(rule) for rule in config.rules]
        self.prices: dict[str, Price | None] = {}  # model -> price (a plan's connection has one kind)


_MISSING = object()


@dataclass
class GateStats:
    syncs: int = 0
    #: (rule scope, rule metric) -> calls refused (the metrics' infer0_limit_refusals_total)
    refusals: Counter = field(default_factory=Counter)


class LimitGate:
    """Per-process limit enforcement over the shared database (see the module doc).

    Use from one event loop. `clear()` when the cache epoch moves (changed limits or prices);
    run `flush()` every FLUSH_INTERVAL (`run_flusher`) and `close()` at shutdown."""

    def __init__(self, store, prices: PriceTable, *, holder: str | None = None, clock=time.time,
                 lease_ttl: float = LEASE_TTL, idle_return: float = IDLE_RETURN, deny_memo: float = DENY_MEMO):
        self._store = store
        self._prices = prices
        self.holder = holder or secrets.token_hex(8)
        self._clock = clock
        self.lease_ttl, self.idle_return, self.deny_memo = lease_ttl, idle_return, deny_memo
        self._plans: dict[tuple, _Plan] = {}  # (grant, connection) -> caps, prices, current leases
        self._leases: dict[tuple, _Lease] = {}
        self._lock: asyncio.Lock | None = None  # one sync at a time: lease bookkeeping stays exact
        self.stats = GateStats()

    def clear(self) -> None:
        """Forget cached limits and prices (they changed somewhere); leases stay."""
        self._plans.clear()

    def unlimited(self, grant_id: int, provider_id: int | None) -> bool:
        """True when this grant (on this connection) is known to have no caps: the caller skips
        `reserve` altogether, so grants without limits pay one dict lookup and no await."""
        plan = self._plans.get((grant_id, provider_id))
        return plan is not None and not plan.slots

    async def config(self, grant_id: int, provider_id: int | None) -> LimitConfig:
        return (await self._plan(grant_id, provider_id)).config

    async def _plan(self, grant_id: int, provider_id: int | None) -> "_Plan":
        key = (grant_id, provider_id)
        plan = self._plans.get(key)
        if plan is None:
            plan = _Plan(await self._store.run(load_config, grant_id, provider_id))
            self._plans[key] = plan
        return plan

    def price(self, config: LimitConfig, provider_id, kind: str, model: str) -> Price | None:
        return price_for(self._prices, kind, model, dict(config.connection_prices))

    def _lease_for(self, rule: LimitRule, at: float) -> _Lease:
        key = rule.key(at)
        lease = self._leases.get(key)
        if lease is None:
            lease = self._leases[key] = _Lease(key, rule.cap)
        if lease.cap != rule.cap:  # the user changed the cap: our lease must be re-checked
            lease.cap, lease.recheck = rule.cap, True
        return lease

    # -- reserve -----------------------------------------------------------------------------
    def reserve_now(self, grant_id: int, provider_id: int | None, kind: str, model: str,
                    body: Mapping, body_size: int) -> Reservation | Refusal | None:
        """`reserve` when it needs no database: the grant's plan is loaded and every cap fits
        this process's leases (nearly every call). None otherwise: then await `reserve`. One
        coroutine fewer on the hot path (a limited call's await chain was two deep)."""
        plan = self._plans.get((grant_id, provider_id))
        if plan is None:
            return None
        slots = plan.slots
        if not slots:
            return UNLIMITED
        price = plan.prices.get(model, _MISSING)
        if price is _MISSING:
            return None  # `reserve` looks the price up
        est = estimate(body, body_size, price)
        amounts = (1, est[0] + est[1], est[2])
        at = self._clock()
        # One pass that takes as it goes (`_parts` + `_take` + `_reservation` in one loop), and
        # gives back what it took if a cap needs the database after all.
        parts: list = []
        seen: list = []
        spend_unknown = False
        for slot in slots:
            amount = amounts[slot.index]
            if not amount:
                spend_unknown = spend_unknown or amount is None
                continue
            lease = slot.lease
            if (lease is None or lease.retired or lease.recheck or lease.budget < amount
                    or not lease.start <= at < lease.end or lease.cap != slot.rule.cap):
                for _, taken, n in parts:
                    taken.budget += n
                    taken.held -= n
                return None
            lease.last_demand = at
            lease.budget -= amount
            lease.held += amount
            parts.append((slot, lease, amount))
            if slot.header is not None:
                seen.append((slot.header, lease.free + lease.budget, lease.end))
        return Reservation(parts, est, price, at, spend_unknown, tuple(seen))

    async def reserve(self, grant_id: int, provider_id: int | None, kind: str, model: str,
                      body: Mapping, body_size: int, *, count_request: bool = True) -> Reservation | Refusal:
        """Reserve an estimate of this call against every cap; `Refusal` if one cannot take it.
        Raises the store's error if the database cannot be reached for a refill (fail closed).
        `count_request=False`: the request caps are left alone (a failover's second reservation,
        `move`: the request was counted by the first)."""
        plan = self._plans.get((grant_id, provider_id))
        if plan is None:
            plan = await self._plan(grant_id, provider_id)
        if not plan.slots:
            return UNLIMITED
        parts, est, price, at, spend_unknown, short = self._parts(plan, provider_id, kind, model, body, body_size,
                                                                  count_request)
        if not short:
            return self._take(parts, est, price, at, spend_unknown)
        # some cap needs the database (or refuses): the slow path
        denied = self._memo_denied(parts, at)
        if denied is None:
            denied = await self._take_with_refill(parts, at)
        if denied is not None:
            return self._refusal(denied, at)
        return self._reservation(parts, est, price, at, spend_unknown)

    def _parts(self, plan: _Plan, provider_id, kind: str, model: str, body: Mapping, body_size: int,
               count_request: bool) -> tuple:
        """(parts [(slot, lease, amount)], estimate, price, now, spend unknown, some part short)."""
        price = plan.prices.get(model, _MISSING)
        if price is _MISSING:
            price = plan.prices[model] = self.price(plan.config, provider_id, kind, model)
        est = estimate(body, body_size, price)
        amounts = (1 if count_request else 0, est[0] + est[1], est[2])
        at = self._clock()
        parts, spend_unknown, short = [], False, False
        for slot in plan.slots:
            amount = amounts[slot.index]
            if not amount:
                spend_unknown = spend_unknown or amount is None
                continue  # nothing to reserve: unknown price, a free model, a request counted already
            lease = slot.lease
            if lease is None or lease.retired or not lease.start <= at < lease.end or lease.cap != slot.rule.cap:
                lease = slot.lease = self._lease_for(slot.rule, at)
            lease.last_demand = at
            if lease.budget < amount or lease.recheck:
                short = True
            parts.append((slot, lease, amount))
        return parts, est, price, at, spend_unknown, short

    def _take(self, parts: list, est: Estimate, price, at: float, spend_unknown: bool) -> Reservation:
        """Hand each part its amount out of its lease's local budget (every part fits)."""
        for _, lease, amount in parts:
            lease.budget -= amount
            lease.held += amount
        return self._reservation(parts, est, price, at, spend_unknown)

    @staticmethod
    def _reservation(parts: list, est: Estimate, price, at: float, spend_unknown: bool) -> Reservation:
        seen = tuple([(slot.header, lease.free + lease.budget, lease.end) for slot, lease, _ in parts
                      if slot.header is not None])
        return Reservation(parts, est, price, at, spend_unknown, seen)

    async def move(self, res: Reservation, grant_id: int, provider_id: int, kind: str, model: str,
                   body: Mapping, body_size: int) -> Reservation | Refusal:
        """A call failing over to the user's fallback connection `provider_id` (gateway/failover.py):
        `res` (the failed attempt's reservation, possibly UNLIMITED or settled already) is settled as
        a call that produced nothing, so its request stays counted and its token and spend estimate
        is given back; then the grant's token and spend caps and the fallback connection's own caps
        are reserved at the fallback's price, the request not counted again. `Refusal` when they do
        not fit: the caller skips that connection. Settle the returned reservation instead of `res`.
        Raises like `reserve`."""
        self.settle(res, 0, 0)
        moved = await self.reserve(grant_id, provider_id, kind, model, body, body_size, count_request=False)
        if isinstance(moved, Refusal):  # a fallback skipped, not the app's call refused: not in the metrics
            key = (moved.rule.scope, moved.rule.metric)
            self.stats.refusals[key] -= 1
            if self.stats.refusals[key] <= 0:
                del self.stats.refusals[key]
        elif moved is not UNLIMITED:
            counted = tuple(seen for seen in res.seen if seen[0].metric == "requests")  # HeaderSpec
            if counted:
                moved.seen = counted + moved.seen
        return moved

    def _memo_denied(self, short: list, at: float):
        for part in short:
            lease = part[1]
            if at - lease.denied_at < self.deny_memo and part[2] - lease.budget >= lease.denied_want:
                return part
        return None

    def _refusal(self, part, at: float) -> Refusal:
        slot, lease, amount = part
        rule = slot.rule
        self.stats.refusals[rule.scope, rule.metric] += 1
        return Refusal(rule=rule, needed=amount, remaining=max(0, lease.free + lease.budget),
                       resets_at=lease.end, retry_after=max(1, math.ceil(lease.end - at)))

    async def _take_with_refill(self, parts: list, at: float):
        """Take `parts` with the database's help; None when all are held, else the part the
        database refused (what was held for the others is given back).

        Under the sync lock, each round first holds every part that fits its local budget (so
        calls running while the transaction is in flight cannot spend it), then asks the
        database for the rest. A call is refused only when the database said no: a part that
        fitted when the call arrived but was spent by other calls while it waited for the lock
        or for the transaction is asked for in the next round (before, the call was refused on
        the spot, a 402 with nearly the whole cap left)."""
        held: list = []
        todo = parts
        try:
            async with self._sync_lock():
                for _ in range(MAX_REFILL_ROUNDS):
                    short = []
                    for part in todo:
                        lease, amount = part[1], part[2]
                        if lease.budget >= amount and not lease.recheck:
                            lease.budget -= amount
                            lease.held += amount
                            held.append(part)
                        else:
                            short.append(part)
                    if not short:
                        held = []  # all taken: the reservation owns them now
                        return None
                    items = [self._item(lease, at, want=amount, give_back=max(0, lease.budget)) if lease.recheck
                             else self._item(lease, at, want=amount - lease.budget)
                             for _, lease, amount in short]
                    for _, lease, _ in short:
                        lease.recheck = False
                    results = await self._sync(items, [part[1] for part in short])
                    now = self._clock()
                    denied = None
                    for part, item, result in zip(short, items, results):
                        if not result.granted:
                            part[1].denied_at, part[1].denied_want = now, item.want
                            denied = denied or part
                    if denied is not None:
                        return denied
                    todo = short
                return todo[0]  # spent by others in every round: refused rather than looping on
        finally:
            for _, lease, amount in held:  # refused or failed: give back what was held
                lease.held -= amount
                lease.budget += amount

    def _sync_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    def _item(self, lease: _Lease, at: float, *, want: int = 0, give_back: int = 0) -> SyncItem:
        """Moves what is reported and given back out of the local lease now, so calls that run
        while the transaction is in flight cannot spend it; `_apply` settles the rest."""
        report = lease.pending
        lease.pending -= report
        lease.budget -= give_back
        chunk = lease.end - at > 1  # no lease ahead of demand in a window's last second
        return SyncItem(key=lease.key, cap=lease.cap, report=report, give_back=give_back, want=want, chunk=chunk)

    async def _sync(self, items: list[SyncItem], leases: list[_Lease]):
        if not items:
            return []
        at = self._clock()
        self.stats.syncs += 1
        try:
            results = await self._store.run_grouped(sync_leases, self.holder, at, items, self.lease_ttl)
        except Exception:
            for item, lease in zip(items, leases):  # nothing changed in the database: undo
                lease.pending += item.report
                lease.budget += item.give_back
            raise
        for lease, result in zip(leases, results):
            # The database's lease is authoritative: whatever it holds beyond calls in flight
            # and unreported consumption is ours to hand out.
            lease.budget = result.amount - lease.held - lease.pending
            lease.free = result.free
            lease.synced_at = at
        return results

    # -- settle ------------------------------------------------------------------------------
    def settle(self, res: Reservation, prompt_tokens: int | None = None, completion_tokens: int | None = None,
               cached_tokens: int = 0, *, streamed_chars: int = 0) -> None:
        """Replace the reservation by real usage; call exactly once per reservation (later calls
        are ignored). Unknown usage (None: a stream cut before its usage chunk, a provider that
        reports none) is charged as the prompt estimate plus `streamed_chars` / 4 output tokens;
        a call that never reached the provider settles with 0, 0 (only the request counts)."""
        if res.settled:
            return
        res.settled = True
        parts = res.parts
        if not parts:
            return
        if prompt_tokens is None:
            prompt_tokens = res.estimate.prompt_tokens
        if completion_tokens is None:
            completion_tokens = -(-streamed_chars // CHARS_PER_TOKEN)
        price = res.price
        if price is None:
            spend = 0
        elif cached_tokens:
            spend = price.cost_micro_usd(prompt_tokens, completion_tokens, cached_tokens)
        else:  # cost_micro_usd without its cached-token arithmetic: the same value
            spend = math.ceil(prompt_tokens * price.input + completion_tokens * price.output - 1e-9)
        actual = (1, prompt_tokens + completion_tokens, spend)
        for slot, lease, reserved in parts:
            used = actual[slot.index]
            lease.held -= reserved
            lease.pending += used
            lease.budget += reserved - used

    # -- background --------------------------------------------------------------------------
    async def flush(self, *, final: bool = False) -> int:
        """Report settled use, renew live leases, give back idle budget; returns items synced."""
        async with self._sync_lock():
            at = self._clock()
            items, leases = [], []
            for key, lease in list(self._leases.items()):
                over = lease.end <= at
                idle = at - lease.last_demand >= self.idle_return
                give_back = max(0, lease.budget) if (final or over or idle or lease.recheck) else 0
                stale = at - lease.synced_at >= self.lease_ttl / 3 and (lease.held > 0 or lease.budget > 0)
                if lease.pending or give_back or stale or lease.recheck:
                    lease.recheck = False
                    items.append(self._item(lease, at, give_back=give_back))
                    leases.append(lease)
                elif lease.held == 0 and lease.budget <= 0 and (over or idle):
                    # a plan's slot may still point at it: retired, so the next call takes the
                    # registered lease (a dropped one would hold use no flush ever reports)
                    lease.retired = True
                    del self._leases[key]
            await self._sync(items, leases)
            return len(items)

    async def run_flusher(self, interval: float = FLUSH_INTERVAL) -> None:
        """Flush every `interval` seconds until cancelled; errors are counted and retried."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                pass  # the items were put back by _sync; the next round retries

    async def close(self) -> None:
        """Final report; give back every lease (calls still in flight are charged as estimated)."""
        for lease in self._leases.values():
            lease.pending += lease.held  # an unfinished call is charged its reservation
            lease.held = 0
        await self.flush(final=True)
        await self._store.run_grouped(release_holder, self.holder)
        self._leases.clear()

    # -- reading -----------------------------------------------------------------------------
    async def usage_summary(self, grant_id: int, provider_id: int | None, kind: str, model: str) -> dict:
        """For GET /v1/me: every cap with its window's use. Shape:
        {"limits": [{"name", "scope", "period", "unit", "limit", "used", "reserved", "remaining",
        "resets_at"}], "spend_enforced": bool}. Spend figures are USD (floats), others integers;
        `reserved` is budget held by servers for calls in flight or ahead of demand."""
        await self.flush()
        config = await self.config(grant_id, provider_id)
        rows = await self._store.run(current_usage, config.rules, self._clock())
        price = self.price(config, provider_id, kind, model)
        out = []
        for row in rows:
            rule = row["rule"]
            conv = (lambda v: round(v / 1_000_000, 6)) if rule.metric == "spend" else (lambda v: v)
            out.append({"name": rule.name, "scope": rule.scope, "period": rule.period,
                        "unit": "usd" if rule.metric == "spend" else rule.metric,
                        "limit": conv(rule.cap), "used": conv(row["used"]), "reserved": conv(row["leased"]),
                        "remaining": conv(row["remaining"]), "resets_at": row["resets_at"]})
        return {"limits": out, "spend_enforced": price is not None}
