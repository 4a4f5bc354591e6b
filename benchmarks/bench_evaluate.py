"""Evaluator throughput: decisions per second on real AWS managed policies.

Method: every AWS managed policy moto ships is parsed once; each decision evaluates one action
(drawn from the actions those policies name, plus actions no policy names) against one policy set
of 1-4 managed policies, with no context (so conditions make answers conditional, as in an audit).
The sets share one ``EvaluationMemo``, as an audit run's roles do.
Single-threaded; the median of several rounds is reported.

    .venv/bin/python benchmarks/bench_evaluate.py [--decisions 200000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import Counter

from moto.iam.aws_managed_policies import aws_managed_policies_data

from zeet_iam_audit import PolicySet, parse_policy
from zeet_iam_audit.policy.evaluate import EvaluationMemo


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261128)
    args = parser.parse_args()

    raw = json.loads(aws_managed_policies_data)
    started = time.perf_counter()
    policies = [parse_policy(entry["Document"], name=name) for name, entry in sorted(raw.items())]
    parse_seconds = time.perf_counter() - started

    rng = random.Random(args.seed)
    actions: list[str] = []
    for policy in policies:
        for statement in policy.statements:
            for action in statement.actions or statement.not_actions or ():
                actions.append(action.replace("*", "Describe") if "*" in action else action)
    actions += ["sqs:CreateQueue", "eks:CreateAccessEntry", "iam:PassRole", "s3:GetObject"]
    chosen = [rng.sample(policies, rng.randint(1, 4)) for _ in range(500)]
    memo = EvaluationMemo()  # one run's: the sets share compiled policies and decisions
    sets = [PolicySet.build(group, memo=memo) for group in chosen]
    own = [
        [a.replace("*", "Describe") for p in group for s in p.statements for a in s.actions or s.not_actions or ()]
        for group in chosen
    ]
    # Half the questions ask about an action the set's own policies name (mostly allowed), half
    # about any action (mostly not allowed): an audit asks both kinds.
    work = []
    for number in range(args.decisions):
        position = rng.randrange(len(sets))
        pool = own[position] if number % 2 and own[position] else actions
        work.append((sets[position], rng.choice(pool)))

    rates = []
    decisions: Counter[str] = Counter()
    for round_ in range(args.rounds):
        begin = time.perf_counter()
        for policy_set, action in work:
            result = policy_set.decide_scope(action, "*", None)
            if round_ == 0:
                decisions[result.decision.value] += 1
        rates.append(len(work) / (time.perf_counter() - begin))
    print(f"managed policies parsed: {len(policies)} in {parse_seconds:.2f} s")
    print(f"decisions per round: {len(work)}; outcomes: {dict(decisions)}")
    print(f"decisions/s per round: {', '.join(f'{r:,.0f}' for r in rates)}")
    print(f"median: {statistics.median(rates):,.0f} decisions/s (single thread, Python {sys.version.split()[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
