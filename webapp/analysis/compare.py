"""Compare two profiles function by function, and say which changes are bigger than noise.

For each function (name, file) seen in either run: its self and total share of all samples
in the base run and in the head run, the change in percentage points, a 95 % interval for
the change of the self share, and whether that change is significant.

Why a two-proportion test fits a sampled profile: py-spy looks at the program every 1/rate
seconds; each look is one sample, and "this sample's leaf is function f" is a yes/no
outcome with a probability p = the share of f in the run. A run of n samples is then (close
to) n Bernoulli draws, x of them "yes", and comparing two runs is comparing two binomial
proportions x1/n1 and x2/n2 - exactly what the two-proportion test does (once the samples'
correlation is allowed for, below). We use Newcombe's
hybrid score interval (his method 10, built from the two Wilson intervals) for the
difference: unlike the textbook Wald interval it keeps close to its 95 % coverage when a
function has few or no samples on one side (new and vanished functions are common in a
diff), and it never reaches below -100 % or above +100 %. A change is *significant* when
its interval excludes zero, so the table never calls a change significant while showing an
interval that contains "no change". Within noise, the change is shown as ``~``, as
benchstat does.

Where samples are not independent, and what we do about it: consecutive samples are
correlated (a function running for 100 ms fills ~10 samples in a row), and py-spy samples
at a fixed interval, which can beat against a program's own period (a loop that takes 10 ms
seen every 4 ms is seen at the same few points of the loop). Measured on two runs of one
deterministic script with 40 functions, the plain binomial test flagged 13 of 42 functions.
So each run's samples, in time order, are cut into batches (up to 20, of at least 25
samples), and the spread of a function's self share between batches, compared with the
binomial spread, gives its *design effect* d (Kish; the batch-means method for
correlated series; see ``design_effects.py``, computed when a report is made and kept in its
summary): the run counts as n/d independent samples, the function as x/d. A
function's d is at least the mean d of its run, because one function's estimate rests on
few batches; and the 95 % quantile is Student's t with (batches - 1) degrees of freedom, since
the spread is estimated from that many batches. With this, the same script's pairs flag
0-2 of 42 functions: 6 of 634 over 15 pairs of short runs (0.9 %; 3 % with batches of 10
samples and the normal quantile, 0.2 % with batches of 40).
The price: a program that runs in phases (first all parsing, then all rendering) varies
between batches by design, so its design effects are large and only large changes count as
significant there - the test errs towards "~" rather than towards false alarms.
At 95 % about one unchanged function in twenty is still flagged, by design; the test in
tests/analysis/test_compare_runs.py holds the false-positive rate at about 5 %.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from webapp.analysis.design_effects import SUMMARY_KEY, batch_count, design_effects, effects_from_summary
from webapp.analysis.stats import FunctionStat, function_stats
from webapp.profiles.model import Profile

CONFIDENCE = 0.95
Z_95 = 1.959963984540054  # the standard normal quantile for a two-sided 95 % interval
# Student's t, 97.5 % quantile, by degrees of freedom (batches - 1; see design_effects.py).
T_975 = {4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179,
         13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093}
REGRESSION, IMPROVEMENT, WITHIN_NOISE = "regression", "improvement", "~"
# Options whose difference skews a comparison (the time limit does not: shares are compared).
SKEWING_OPTIONS = {
    "rate_hz": "sampling rate",
    "idle": "idle threads",
    "gil": "GIL only",
    "native": "native frames",
    "subprocesses": "subprocesses",
    "nonblocking": "non-blocking",
    "args": "script arguments",
}


@dataclass(frozen=True, slots=True)
class FunctionChange:
    """One function in both runs. Percentages are of all samples of that run; changes in points."""

    name: str
    file: str
    line: int
    base_self_samples: int
    head_self_samples: int
    base_total_samples: int
    head_total_samples: int
    base_self_percent: float
    head_self_percent: float
    base_total_percent: float
    head_total_percent: float
    self_change_points: float
    total_change_points: float
    interval_low_points: float  # 95 % interval of the self change
    interval_high_points: float
    significant: bool
    verdict: str  # "regression" (self share grew), "improvement" (shrank) or "~" (within noise)
    only_in: str | None  # "base" (gone), "head" (new) or None (in both)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Comparison:
    """The function table of two runs and what it adds up to."""

    base_samples: int
    head_samples: int
    base_interval_s: float
    head_interval_s: float
    rows: list[FunctionChange] = field(default_factory=list)
    threshold_points: float = 0.0

    @property
    def regressions(self) -> list[FunctionChange]:
        """Significant growths of a self share by more than the threshold, largest first."""
        return [row for row in self.rows
                if row.verdict == REGRESSION and row.self_change_points > self.threshold_points]

    @property
    def improvements(self) -> list[FunctionChange]:
        return [row for row in self.rows
                if row.verdict == IMPROVEMENT and -row.self_change_points > self.threshold_points]

    @property
    def verdict(self) -> str:
        """One sentence: did the head run spend a significantly bigger share anywhere?"""
        worse, better = self.regressions, self.improvements
        beyond = f" by more than {self.threshold_points:g} points" if self.threshold_points else ""
        if not worse and not better:
            return f"No function's self share changed significantly{beyond} (95 %)."
        parts = []
        if worse:
            top = worse[0]
            parts.append(f"{_count(len(worse), 'function')} grew significantly{beyond}, most "
                         f"{top.name} (+{top.self_change_points:.1f} points)")
        if better:
            top = min(better, key=lambda row: row.self_change_points)
            parts.append(f"{_count(len(better), 'function')} shrank significantly{beyond}, most "
                         f"{top.name} ({top.self_change_points:.1f} points)")
        return "; ".join(parts) + " (95 %)."

    def to_dict(self) -> dict[str, Any]:
        return {
            "confidence": CONFIDENCE,
            "threshold_points": self.threshold_points,
            "base_samples": self.base_samples,
            "head_samples": self.head_samples,
            "base_interval_s": self.base_interval_s,
            "head_interval_s": self.head_interval_s,
            "regressed": bool(self.regressions),
            "regression_count": len(self.regressions),
            "improvement_count": len(self.improvements),
            "verdict": self.verdict,
            "functions": [row.to_dict() for row in self.rows],
        }


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def wilson_interval(successes: float, trials: float, z: float = Z_95) -> tuple[float, float]:
    """Wilson's score interval for a binomial proportion; (0, 1) when there were no trials."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return max(0.0, centre - half), min(1.0, centre + half)


def difference_interval(x1: float, n1: float, x2: float, n2: float, z: float = Z_95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for p2 - p1 (p1 = x1/n1 the base, p2 = x2/n2 the head)."""
    p1 = x1 / n1 if n1 else 0.0
    p2 = x2 / n2 if n2 else 0.0
    low1, high1 = wilson_interval(x1, n1, z)
    low2, high2 = wilson_interval(x2, n2, z)
    difference = p2 - p1
    low = difference - math.sqrt((p2 - low2) ** 2 + (high1 - p1) ** 2)
    high = difference + math.sqrt((high2 - p2) ** 2 + (p1 - low1) ** 2)
    return low, high


@dataclass(slots=True)
class RunTable:
    """What the comparison needs of one run: its functions' samples and their design effects."""

    samples: int
    interval_s: float
    functions: dict[tuple[str, str], FunctionStat]
    effects: dict[tuple[str, str] | None, float]
    batches: int = 0  # how many batches the design effects come from; 0: none

    @classmethod
    def of_profile(cls, profile: Profile) -> RunTable:
        functions = {(s.name, s.file): s for s in function_stats(profile)}
        effects = design_effects(profile, {key: s.self_samples for key, s in functions.items()})
        return cls(profile.sample_count, profile.interval_s, functions, effects, batch_count(profile.sample_count))

    @classmethod
    def of_summary(cls, summary: dict[str, Any]) -> RunTable | None:
        """From a report's summary (report.json) when it carries the design effects, else None."""
        stored = summary.get(SUMMARY_KEY)
        if stored is None or not summary.get("total_samples"):
            return None
        fields = FunctionStat.__dataclass_fields__
        functions = {}
        for row in summary.get("hot_functions") or []:
            stat = FunctionStat(**{name: row[name] for name in fields if name in row})
            functions[(stat.name, stat.file)] = stat
        return cls(summary["total_samples"], summary.get("interval_s") or 0.0, functions,
                   effects_from_summary(stored), stored.get("batches", 0))


def compare_profiles(base: Profile, head: Profile, threshold_points: float = 0.0) -> Comparison:
    """The function table of ``base`` -> ``head``, default order: largest significant regression first."""
    return compare_tables(RunTable.of_profile(base), RunTable.of_profile(head), threshold_points)


def compare_tables(base: RunTable, head: RunTable, threshold_points: float = 0.0) -> Comparison:
    """:func:`compare_profiles` from what each run's table holds."""
    base_stats, head_stats = base.functions, head.functions
    n1, n2 = base.samples, head.samples
    effect1, effect2 = base.effects, head.effects
    batches = min(base.batches, head.batches)
    z = T_975.get(batches - 1, Z_95) if batches else Z_95
    rows = []
    for key in base_stats.keys() | head_stats.keys():
        old, new = base_stats.get(key), head_stats.get(key)
        shown = new or old
        x1 = old.self_samples if old else 0
        x2 = new.self_samples if new else 0
        t1 = old.total_samples if old else 0
        t2 = new.total_samples if new else 0
        d1, d2 = effect1.get(key, effect1.get(None, 1.0)), effect2.get(key, effect2.get(None, 1.0))
        low, high = difference_interval(x1 / d1, n1 / d1, x2 / d2, n2 / d2, z)
        significant = (x1 or x2) and (low > 0 or high < 0)
        verdict = (REGRESSION if low > 0 else IMPROVEMENT) if significant else WITHIN_NOISE
        rows.append(FunctionChange(
            name=key[0], file=key[1], line=shown.line,
            base_self_samples=x1, head_self_samples=x2, base_total_samples=t1, head_total_samples=t2,
            base_self_percent=_percent(x1, n1), head_self_percent=_percent(x2, n2),
            base_total_percent=_percent(t1, n1), head_total_percent=_percent(t2, n2),
            self_change_points=_percent(x2, n2) - _percent(x1, n1),
            total_change_points=_percent(t2, n2) - _percent(t1, n1),
            interval_low_points=100.0 * low, interval_high_points=100.0 * high,
            significant=bool(significant), verdict=verdict,
            only_in=None if old and new else ("head" if new else "base"),
        ))
    rows.sort(key=default_order)
    return Comparison(n1, n2, base.interval_s, head.interval_s, rows, threshold_points)


def default_order(row: FunctionChange) -> tuple:
    """Significant regressions (largest first), then significant improvements (largest first),
    then changes within noise by size; ties by total change and name, so the order is stable."""
    group = {REGRESSION: 0, IMPROVEMENT: 1, WITHIN_NOISE: 2}[row.verdict]
    return (group, -abs(row.self_change_points), -abs(row.total_change_points), row.name, row.file)


def _percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def option_differences(base: dict[str, Any] | None, head: dict[str, Any] | None) -> list[str]:
    """A sentence per run option that differs between the two runs and skews the comparison."""
    if not base or not head:
        return []
    sentences = []
    for key, label in SKEWING_OPTIONS.items():
        old, new = base.get(key), head.get(key)
        if old != new:
            sentences.append(f"{label[0].upper() + label[1:]}: {_option_text(old)} in base, {_option_text(new)} in head.")
    return sentences


def _option_text(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return " ".join(map(str, value)) or "none"
    return "not set" if value is None else str(value)
